//! ISO 7816-4 command and response APDUs.
//!
//! Commands are encoded in short form whenever the lengths allow it, because
//! some readers and cards do not support extended length, and in extended
//! form only when they must be.

use std::fmt;

use thiserror::Error;

/// Largest command data field (extended Lc is two bytes).
const MAX_DATA_LEN: usize = 0xFFFF;
/// Largest data field a short command can carry.
const MAX_SHORT_DATA_LEN: usize = 0xFF;
/// Largest expected response length (extended Le `0000`).
const MAX_LE: usize = 0x1_0000;
/// Largest expected response length in short form (Le `00`).
const MAX_SHORT_LE: usize = 0x100;

/// Errors from encoding or decoding APDUs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApduError {
    /// Fewer bytes than the header (command) or status word (response).
    #[error("APDU too short")]
    TooShort,
    /// The length fields disagree with the number of bytes present.
    #[error("APDU length fields do not match its size")]
    LengthMismatch,
    /// Command data longer than 65535 bytes.
    #[error("APDU data too long")]
    DataTooLong,
    /// Le outside 1..=65536.
    #[error("invalid APDU Le")]
    InvalidLe,
}

/// The two-byte status word (SW1 SW2) that ends every response.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct StatusWord(pub u16);

impl StatusWord {
    /// Success.
    pub const OK: StatusWord = StatusWord(0x9000);
    /// Wrong length (Lc or Le).
    pub const WRONG_LENGTH: StatusWord = StatusWord(0x6700);
    /// Security status not satisfied.
    pub const SECURITY_STATUS_NOT_SATISFIED: StatusWord = StatusWord(0x6982);
    /// Conditions of use not satisfied (e.g. a command out of sequence).
    pub const CONDITIONS_NOT_SATISFIED: StatusWord = StatusWord(0x6985);
    /// Incorrect parameters in the data field.
    pub const WRONG_DATA: StatusWord = StatusWord(0x6A80);
    /// File or application not found.
    pub const FILE_NOT_FOUND: StatusWord = StatusWord(0x6A82);
    /// Incorrect P1 or P2.
    pub const INCORRECT_P1P2: StatusWord = StatusWord(0x6A86);
    /// Instruction not supported.
    pub const INS_NOT_SUPPORTED: StatusWord = StatusWord(0x6D00);
    /// Class not supported.
    pub const CLA_NOT_SUPPORTED: StatusWord = StatusWord(0x6E00);
    /// No precise diagnosis.
    pub const UNKNOWN: StatusWord = StatusWord(0x6F00);

    /// Whether this is `9000`.
    pub fn is_ok(self) -> bool {
        self == Self::OK
    }

    /// For `61xx`, the number of response bytes still available (`00`
    /// meaning 256); `None` for every other status word.
    pub fn bytes_available(self) -> Option<usize> {
        match self.to_bytes() {
            [0x61, 0x00] => Some(MAX_SHORT_LE),
            [0x61, n] => Some(usize::from(n)),
            _ => None,
        }
    }

    /// SW1 and SW2 in wire order.
    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

/// A command APDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandApdu {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// First parameter.
    pub p1: u8,
    /// Second parameter.
    pub p2: u8,
    /// Command data (Lc is derived from its length).
    pub data: Vec<u8>,
    /// Expected response length, 1..=65536; `None` when no response data is
    /// expected. The wire values `00` (short) and `0000` (extended) are
    /// represented by their meaning, 256 and 65536.
    pub le: Option<usize>,
}

impl CommandApdu {
    /// A command with no data and no Le (case 1).
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self { cla, ins, p1, p2, data: Vec::new(), le: None }
    }

    /// Sets the command data.
    pub fn with_data(mut self, data: Vec<u8>) -> Self {
        self.data = data;
        self
    }

    /// Sets the expected response length.
    pub fn with_le(mut self, le: usize) -> Self {
        self.le = Some(le);
        self
    }

    /// SELECT by AID (`00 A4 04 00 Lc aid 00`).
    pub fn select_aid(aid: &[u8]) -> Self {
        Self::new(0x00, 0xA4, 0x04, 0x00).with_data(aid.to_vec()).with_le(MAX_SHORT_LE)
    }

    /// GET RESPONSE for `len` bytes (`00 C0 00 00 Le`), used to fetch the
    /// rest of a response announced by `61xx`.
    pub fn get_response(len: usize) -> Self {
        Self::new(0x00, 0xC0, 0x00, 0x00).with_le(len)
    }

    /// Encodes the command, in short form if the lengths fit and extended
    /// form otherwise.
    pub fn encode(&self) -> Result<Vec<u8>, ApduError> {
        if self.data.len() > MAX_DATA_LEN {
            return Err(ApduError::DataTooLong);
        }
        if self.le.is_some_and(|le| le == 0 || le > MAX_LE) {
            return Err(ApduError::InvalidLe);
        }
        let short = self.data.len() <= MAX_SHORT_DATA_LEN && self.le.is_none_or(|le| le <= MAX_SHORT_LE);

        let mut out = Vec::with_capacity(4 + 3 + self.data.len() + 3);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if short {
            if !self.data.is_empty() {
                // Checked above to fit in a byte.
                out.push(u8::try_from(self.data.len()).unwrap_or(0));
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = self.le {
                // 256 is the only value that does not fit; it is sent as 00.
                out.push(u8::try_from(le).unwrap_or(0));
            }
        } else {
            if !self.data.is_empty() {
                out.push(0x00);
                out.extend_from_slice(&u16::try_from(self.data.len()).unwrap_or(0).to_be_bytes());
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = self.le {
                // Without data, the 00 marker that announces extended
                // length precedes Le instead of Lc.
                if self.data.is_empty() {
                    out.push(0x00);
                }
                // 65536 is the only value that does not fit; it is sent as 0000.
                out.extend_from_slice(&u16::try_from(le).unwrap_or(0).to_be_bytes());
            }
        }
        Ok(out)
    }

    /// Decodes a command in any of the ISO 7816-4 cases, short or extended.
    pub fn decode(bytes: &[u8]) -> Result<CommandApdu, ApduError> {
        let (&[cla, ins, p1, p2], body) = bytes.split_first_chunk().ok_or(ApduError::TooShort)?;
        let (data, le) = match body {
            // Case 1.
            [] => (&[][..], None),
            // Case 2S.
            &[le] => (&[][..], Some(short_le(le))),
            // Short Lc must be non-zero; a 00 here announces extended length.
            &[0x00, _] => return Err(ApduError::LengthMismatch),
            // Case 2E.
            &[0x00, le1, le2] => (&[][..], Some(extended_le(le1, le2))),
            // Cases 3E and 4E.
            [0x00, lc1, lc2, rest @ ..] => {
                let lc = usize::from(u16::from_be_bytes([*lc1, *lc2]));
                if lc == 0 {
                    return Err(ApduError::LengthMismatch);
                }
                match rest.split_at_checked(lc) {
                    Some((data, [])) => (data, None),
                    Some((data, &[le1, le2])) => (data, Some(extended_le(le1, le2))),
                    _ => return Err(ApduError::LengthMismatch),
                }
            }
            // Cases 3S and 4S.
            [lc, rest @ ..] => match rest.split_at_checked(usize::from(*lc)) {
                Some((data, [])) => (data, None),
                Some((data, &[le])) => (data, Some(short_le(le))),
                _ => return Err(ApduError::LengthMismatch),
            },
        };
        Ok(CommandApdu { cla, ins, p1, p2, data: data.to_vec(), le })
    }
}

fn short_le(le: u8) -> usize {
    if le == 0 { MAX_SHORT_LE } else { usize::from(le) }
}

fn extended_le(le1: u8, le2: u8) -> usize {
    match u16::from_be_bytes([le1, le2]) {
        0 => MAX_LE,
        le => usize::from(le),
    }
}

/// A response APDU: data followed by a status word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseApdu {
    /// Response data, possibly empty.
    pub data: Vec<u8>,
    /// The status word.
    pub sw: StatusWord,
}

impl ResponseApdu {
    /// A response with data and status.
    pub fn new(data: Vec<u8>, sw: StatusWord) -> Self {
        Self { data, sw }
    }

    /// A successful (`9000`) response carrying `data`.
    pub fn ok(data: Vec<u8>) -> Self {
        Self::new(data, StatusWord::OK)
    }

    /// A response with no data, typically an error.
    pub fn status(sw: StatusWord) -> Self {
        Self::new(Vec::new(), sw)
    }

    /// The wire encoding: data, then SW1 SW2.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.to_bytes());
        out
    }

    /// Decodes a response; everything before the last two bytes is data.
    pub fn decode(bytes: &[u8]) -> Result<ResponseApdu, ApduError> {
        let (data, sw) = bytes.split_last_chunk().ok_or(ApduError::TooShort)?;
        Ok(Self::new(data.to_vec(), StatusWord(u16::from_be_bytes(*sw))))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    fn cmd() -> CommandApdu {
        CommandApdu::new(0x80, 0x10, 0x01, 0x02)
    }

    fn round_trip(apdu: &CommandApdu, expected: &[u8]) {
        let encoded = apdu.encode().unwrap();
        assert_eq!(encoded, expected);
        assert_eq!(&CommandApdu::decode(&encoded).unwrap(), apdu);
    }

    #[test]
    fn status_words() {
        assert!(StatusWord::OK.is_ok());
        assert!(!StatusWord::WRONG_DATA.is_ok());
        assert_eq!(StatusWord::WRONG_DATA.to_string(), "6A80");
        assert_eq!(StatusWord(0x0001).to_string(), "0001");
        assert_eq!(StatusWord(0x6110).bytes_available(), Some(16));
        assert_eq!(StatusWord(0x6100).bytes_available(), Some(256));
        assert_eq!(StatusWord(0x6C10).bytes_available(), None);
        assert_eq!(StatusWord::OK.bytes_available(), None);
        assert_eq!(StatusWord::FILE_NOT_FOUND.to_bytes(), [0x6A, 0x82]);
    }

    #[test]
    fn short_cases() {
        round_trip(&cmd(), &[0x80, 0x10, 0x01, 0x02]);
        round_trip(&cmd().with_le(1), &[0x80, 0x10, 0x01, 0x02, 0x01]);
        round_trip(&cmd().with_le(256), &[0x80, 0x10, 0x01, 0x02, 0x00]);
        round_trip(&cmd().with_data(vec![0xAA, 0xBB]), &[0x80, 0x10, 0x01, 0x02, 0x02, 0xAA, 0xBB]);
        round_trip(&cmd().with_data(vec![0xAA]).with_le(256), &[0x80, 0x10, 0x01, 0x02, 0x01, 0xAA, 0x00]);
    }

    #[test]
    fn extended_cases() {
        round_trip(&cmd().with_le(257), &[0x80, 0x10, 0x01, 0x02, 0x00, 0x01, 0x01]);
        round_trip(&cmd().with_le(65536), &[0x80, 0x10, 0x01, 0x02, 0x00, 0x00, 0x00]);

        let data = vec![0x5A; 256];
        let mut case3e = vec![0x80, 0x10, 0x01, 0x02, 0x00, 0x01, 0x00];
        case3e.extend_from_slice(&data);
        round_trip(&cmd().with_data(data.clone()), &case3e);

        let mut case4e = case3e.clone();
        case4e.extend_from_slice(&[0x00, 0x01]);
        round_trip(&cmd().with_data(data.clone()).with_le(1), &case4e);

        // Short data with a long Le also forces extended form.
        round_trip(
            &cmd().with_data(vec![0xAA]).with_le(0x1234),
            &[0x80, 0x10, 0x01, 0x02, 0x00, 0x00, 0x01, 0xAA, 0x12, 0x34],
        );
    }

    #[test]
    fn largest_command_round_trips() {
        let apdu = cmd().with_data(vec![0xC3; 65535]).with_le(65536);
        let encoded = apdu.encode().unwrap();
        assert_eq!(encoded.len(), 4 + 3 + 65535 + 2);
        assert_eq!(&encoded[4..7], &[0x00, 0xFF, 0xFF]);
        assert_eq!(&encoded[encoded.len() - 2..], &[0x00, 0x00]);
        assert_eq!(CommandApdu::decode(&encoded).unwrap(), apdu);

        let apdu = cmd().with_data(vec![0x3C; 65535]);
        assert_eq!(CommandApdu::decode(&apdu.encode().unwrap()).unwrap(), apdu);
    }

    #[test]
    fn helpers() {
        assert_eq!(
            CommandApdu::select_aid(&[0xA0, 0x00, 0x01]).encode().unwrap(),
            vec![0x00, 0xA4, 0x04, 0x00, 0x03, 0xA0, 0x00, 0x01, 0x00]
        );
        assert_eq!(CommandApdu::get_response(0x20).encode().unwrap(), vec![0x00, 0xC0, 0x00, 0x00, 0x20]);
    }

    #[test]
    fn encode_errors() {
        assert_eq!(cmd().with_data(vec![0; 65536]).encode(), Err(ApduError::DataTooLong));
        assert_eq!(cmd().with_le(0).encode(), Err(ApduError::InvalidLe));
        assert_eq!(cmd().with_le(65537).encode(), Err(ApduError::InvalidLe));
    }

    #[test]
    fn decode_errors() {
        assert_eq!(CommandApdu::decode(&[]), Err(ApduError::TooShort));
        assert_eq!(CommandApdu::decode(&[0, 0, 0]), Err(ApduError::TooShort));
        let header = [0x80, 0x10, 0x01, 0x02];
        let bad: &[&[u8]] = &[
            // Short Lc of zero.
            &[0x00, 0x00],
            // Lc larger than the data.
            &[0x03, 0xAA, 0xBB],
            // Data followed by more than one Le byte.
            &[0x01, 0xAA, 0x00, 0x00],
            // Extended Lc of zero.
            &[0x00, 0x00, 0x00, 0x01],
            // Extended Lc larger than the data.
            &[0x00, 0x00, 0x02, 0xAA],
            // Extended data followed by a single Le byte.
            &[0x00, 0x00, 0x01, 0xAA, 0x00],
        ];
        for body in bad {
            let mut bytes = header.to_vec();
            bytes.extend_from_slice(body);
            assert_eq!(CommandApdu::decode(&bytes), Err(ApduError::LengthMismatch), "{body:02X?}");
        }
    }

    #[test]
    fn responses() {
        let ok = ResponseApdu::ok(vec![1, 2, 3]);
        assert_eq!(ok.encode(), vec![1, 2, 3, 0x90, 0x00]);
        assert_eq!(ResponseApdu::decode(&ok.encode()), Ok(ok));

        let status = ResponseApdu::status(StatusWord::INS_NOT_SUPPORTED);
        assert_eq!(status.encode(), vec![0x6D, 0x00]);
        assert_eq!(ResponseApdu::decode(&[0x6D, 0x00]), Ok(status));

        assert_eq!(ResponseApdu::decode(&[0x90]), Err(ApduError::TooShort));
        assert_eq!(ResponseApdu::decode(&[]), Err(ApduError::TooShort));
    }
}
