/*
 * list_keys: prints carkeyd's keys and status as JSON.
 *
 *   list_keys [BUS-ADDRESS]
 *
 * Connects to the bus at BUS-ADDRESS (for example unix:path=/run/dbus/system_bus_socket),
 * or to the system bus when none is given. On failure it prints the status code's name
 * and the error's name to stderr and exits with 1.
 */
#include <stdio.h>

#include "carkey_client.h"

static int fail(carkey_client *client, const char *what, int status) {
    fprintf(stderr, "list_keys: %s failed: %s (%s): %s\n", what, carkey_status_name(status),
            carkey_client_last_error(client), carkey_client_last_message(client));
    carkey_client_free(client);
    return 1;
}

int main(int argc, char **argv) {
    const char *address = argc > 1 ? argv[1] : NULL;
    carkey_client *client = NULL;
    int status = carkey_client_connect(address, &client);
    if (status != CARKEY_STATUS_OK) {
        fprintf(stderr, "list_keys: cannot connect to %s: %s\n", address ? address : "the system bus",
                carkey_status_name(status));
        return 1;
    }

    char *json = NULL;
    status = carkey_client_keys_json(client, &json);
    if (status != CARKEY_STATUS_OK) {
        return fail(client, "listing keys", status);
    }
    printf("keys: %s\n", json);
    carkey_string_free(json);

    status = carkey_client_status_json(client, &json);
    if (status != CARKEY_STATUS_OK) {
        return fail(client, "reading the status", status);
    }
    printf("status: %s\n", json);
    carkey_string_free(json);

    carkey_client_free(client);
    return 0;
}
