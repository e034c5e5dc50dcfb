#!/usr/bin/env python3
"""Independent derivation of the key-schedule golden vectors.

carkey's Rust key schedule is checked against the output of this script, which shares no
code with it: EC arithmetic comes from pyca/cryptography, the KDFs are written out here
from their definitions (ANSI X9.63 / SEC 1 §3.6.1 and RFC 5869) with hashlib and hmac.

    python3 derive_key_schedule.py > key_schedule.txt
"""

import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def key(hex_scalar):
    return ec.derive_private_key(int(hex_scalar, 16), ec.SECP256R1())


def uncompressed(private):
    return private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def x963(z, shared_info, length):
    out, counter = b"", 1
    while len(out) < length:
        out += hashlib.sha256(z + counter.to_bytes(4, "big") + shared_info).digest()
        counter += 1
    return out[:length]


def hkdf(ikm, salt, info, length):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def tlv(tag, value):
    assert len(value) < 0x80
    return bytes([tag, len(value)]) + value


# Fixed inputs (any valid scalars; these are documented in key_schedule.txt).
vehicle = key("1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100")
endpoint = key("2f2e2d2c2b2a292827262524232221201f1e1d1c1b1a19181716151413121110")
reader_eph = key("3f3e3d3c3b3a393837363534333231302f2e2d2c2b2a29282726252423222120")
endpoint_eph = key("4f4e4d4c4b4a494847464544434241403f3e3d3c3b3a39383736353433323130")
transaction_id = bytes(range(0x50, 0x60))
reader_id = bytes([0xA1] * 16 + [0xC0] * 16)
version = bytes([0x01, 0x00])
command_parameters = 0x01  # fast requested (the fast and standard splits share it)
policy = 0x01
# SelectResponse::new(&[[1, 0]], 2048, 2048): A5{80 0001, 5C 0100, 7F66{02 00000800, 02 00000800}}
ext = bytes([0x7F, 0x66, 12]) + tlv(0x02, (2048).to_bytes(4, "big")) + tlv(0x02, (2048).to_bytes(4, "big"))
a5_value = tlv(0x80, bytes([0x00, 0x01])) + tlv(0x5C, version) + ext
select_a5 = bytes([0xA5, len(a5_value)]) + a5_value

reader_pk_x = uncompressed(vehicle)[1:33]
endpoint_pk_x = uncompressed(endpoint)[1:33]
reader_eph_x = uncompressed(reader_eph)[1:33]
endpoint_eph_x = uncompressed(endpoint_eph)[1:33]


def salt(mode, with_endpoint_pk):
    s = (reader_pk_x + mode + reader_id + bytes([0x5E, 0x5C, 0x02]) + version + reader_eph_x
         + transaction_id + bytes([command_parameters, policy]) + select_a5)
    return s + (endpoint_pk_x if with_endpoint_pk else b"")


info = endpoint_eph_x
z = reader_eph.exchange(ec.ECDH(), endpoint_eph.public_key())
k_dh = x963(z, transaction_id, 32)
volatile = hkdf(k_dh, salt(b"Volatile****", False), info, 160)
k_persistent = hkdf(k_dh, salt(b"Persistent**", True), info, 32)
fast = hkdf(k_persistent, salt(b"VolatileFast", True), info, 160)
zeros = bytes(32)
cryptogram_plaintext = tlv(0x5E, bytes([0x00, 0x18])) + tlv(0x91, bytes(20)) + tlv(0x92, bytes(20))
cryptogram = AESGCM(fast[0:32]).encrypt(bytes(12), cryptogram_plaintext, None)

rows = [
    ("vehicle_private", vehicle.private_numbers().private_value.to_bytes(32, "big")),
    ("endpoint_private", endpoint.private_numbers().private_value.to_bytes(32, "big")),
    ("reader_ephemeral_private", reader_eph.private_numbers().private_value.to_bytes(32, "big")),
    ("endpoint_ephemeral_private", endpoint_eph.private_numbers().private_value.to_bytes(32, "big")),
    ("transaction_id", transaction_id),
    ("reader_id", reader_id),
    ("select_a5", select_a5),
    ("endpoint_ephemeral_public", uncompressed(endpoint_eph)),
    ("salt_volatile", salt(b"Volatile****", False)),
    ("salt_persistent", salt(b"Persistent**", True)),
    ("salt_fast", salt(b"VolatileFast", True)),
    ("info", info),
    ("z", z),
    ("k_dh", k_dh),
    ("expedited_sk_reader", volatile[0:32]),
    ("expedited_sk_device", volatile[32:64]),
    ("step_up_material", volatile[64:96]),
    ("ble_material", volatile[96:128]),
    ("ursk", volatile[128:160]),
    ("step_up_sk_reader", hkdf(volatile[64:96], zeros, b"SKReader", 32)),
    ("step_up_sk_device", hkdf(volatile[64:96], zeros, b"SKDevice", 32)),
    ("ble_sk_reader", hkdf(volatile[96:128], zeros, b"BleSKReader", 32)),
    ("ble_sk_device", hkdf(volatile[96:128], zeros, b"BleSKDevice", 32)),
    ("k_persistent", k_persistent),
    ("fast_cryptogram_sk", fast[0:32]),
    ("fast_sk_reader", fast[32:64]),
    ("fast_sk_device", fast[64:96]),
    ("fast_ble_material", fast[96:128]),
    ("fast_ursk", fast[128:160]),
    ("cryptogram_plaintext", cryptogram_plaintext),
    ("cryptogram", cryptogram),
]
print("# Golden vectors for the carkey key schedule (DESIGN §2 / protocol README).")
print("# Generated by derive_key_schedule.py (pyca/cryptography + hashlib/hmac), AUTH0 41 = 01, 42 = 01.")
for name, value in rows:
    print(f"{name} = {value.hex()}")
