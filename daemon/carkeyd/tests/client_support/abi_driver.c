/*
 * abi_driver: calls carkey-client's C ABI on request, for the daemon's black-box tests.
 *
 * The tests cannot call the C ABI from Rust (the workspace forbids unsafe code), and a C
 * caller is what the ABI is for anyway. This program reads one request per line from
 * stdin, fields separated by tabs, makes the call on one handle, and answers with one
 * line: the status name, the last error's name, the last message and the output, tab
 * separated ("-" for no output, "not-cleared" if a call left its output pointer as it was
 * instead of setting it or clearing it to NULL). Requests:
 *
 *   connect ADDRESS                           carkey_client_connect
 *   keys | status | profiles | readers        carkey_client_*_json
 *   rename ID NAME | set_profile ID PROFILE | suspend ID REASON | revoke ID REASON
 *   resume ID | set_validity ID NOT_BEFORE NOT_AFTER | cancel_pairing
 *   start_pairing                             output: CODE,EXPIRES_AT
 *   start_pairing_without_expiry              the expiry output pointer is NULL; output:
 *                                             code-null if the code pointer was cleared
 *   rename_not_utf8 ID | rename_null ID       a name that is not UTF-8 / NULL
 *   next_decision TIMEOUT_MS
 *   free                                      carkey_client_free; the handle is gone
 *
 * The handle is freed at the end of input too. Used only by tests.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carkey_client.h"

static carkey_client *client = NULL;

/* Prints text with tabs and line breaks replaced, so that one answer stays one line. */
static void field(const char *text) {
    for (const char *c = text; *c; c++) {
        putchar(*c == '\t' || *c == '\n' || *c == '\r' ? ' ' : *c);
    }
}

/* Answers a request; `out` is the call's output (NULL: none). */
static void answer(int status, const char *out) {
    field(carkey_status_name(status));
    putchar('\t');
    field(carkey_client_last_error(client));
    putchar('\t');
    field(client ? carkey_client_last_message(client) : "");
    putchar('\t');
    field(out ? out : "-");
    putchar('\n');
    fflush(stdout);
}

/* What an output pointer holds before a call: a call that fails must clear it. */
static char not_cleared[] = "not-cleared";

/* Answers a request whose output is a string the library returned, and frees it. */
static void answer_owned(int status, char *out) {
    answer(status, out);
    if (out != not_cleared) {
        carkey_string_free(out);
    }
}

/* Splits `line` at tabs into at most `max` fields; returns how many. */
static int split(char *line, char **fields, int max) {
    int n = 0;
    char *rest = line;
    while (n < max) {
        fields[n++] = rest;
        char *tab = strchr(rest, '\t');
        if (!tab) {
            break;
        }
        *tab = '\0';
        rest = tab + 1;
    }
    return n;
}

static const char *arg(char **fields, int n, int i) {
    return i < n ? fields[i] : "";
}

int main(void) {
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *f[4];
        int n = split(line, f, 4);
        const char *cmd = f[0];
        char *out = not_cleared;
        if (strcmp(cmd, "connect") == 0) {
            carkey_client_free(client);
            client = NULL;
            int status = carkey_client_connect(arg(f, n, 1), &client);
            answer(status, NULL);
        } else if (strcmp(cmd, "keys") == 0) {
            int status = carkey_client_keys_json(client, &out);
            answer_owned(status, out);
        } else if (strcmp(cmd, "status") == 0) {
            int status = carkey_client_status_json(client, &out);
            answer_owned(status, out);
        } else if (strcmp(cmd, "profiles") == 0) {
            int status = carkey_client_profiles_json(client, &out);
            answer_owned(status, out);
        } else if (strcmp(cmd, "readers") == 0) {
            int status = carkey_client_readers_json(client, &out);
            answer_owned(status, out);
        } else if (strcmp(cmd, "rename") == 0) {
            answer(carkey_client_rename(client, arg(f, n, 1), arg(f, n, 2)), NULL);
        } else if (strcmp(cmd, "rename_not_utf8") == 0) {
            answer(carkey_client_rename(client, arg(f, n, 1), "A\xff"), NULL);
        } else if (strcmp(cmd, "rename_null") == 0) {
            answer(carkey_client_rename(client, arg(f, n, 1), NULL), NULL);
        } else if (strcmp(cmd, "set_profile") == 0) {
            answer(carkey_client_set_profile(client, arg(f, n, 1), arg(f, n, 2)), NULL);
        } else if (strcmp(cmd, "set_validity") == 0) {
            int64_t not_before = strtoll(arg(f, n, 2), NULL, 10);
            int64_t not_after = strtoll(arg(f, n, 3), NULL, 10);
            answer(carkey_client_set_validity(client, arg(f, n, 1), not_before, not_after), NULL);
        } else if (strcmp(cmd, "suspend") == 0) {
            answer(carkey_client_suspend(client, arg(f, n, 1), arg(f, n, 2)), NULL);
        } else if (strcmp(cmd, "resume") == 0) {
            answer(carkey_client_resume(client, arg(f, n, 1)), NULL);
        } else if (strcmp(cmd, "revoke") == 0) {
            answer(carkey_client_revoke(client, arg(f, n, 1), arg(f, n, 2)), NULL);
        } else if (strcmp(cmd, "start_pairing") == 0) {
            char *code = not_cleared;
            int64_t expires_at = 0;
            int status = carkey_client_start_pairing(client, &code, &expires_at);
            char text[128] = "-";
            if (code == not_cleared) {
                snprintf(text, sizeof text, "%s", not_cleared);
            } else if (code) {
                snprintf(text, sizeof text, "%s,%lld", code, (long long)expires_at);
                carkey_string_free(code);
            }
            answer(status, text);
        } else if (strcmp(cmd, "start_pairing_without_expiry") == 0) {
            char *code = not_cleared;
            int status = carkey_client_start_pairing(client, &code, NULL);
            answer(status, code == NULL ? "code-null" : "code-set");
            if (code != NULL && code != not_cleared) {
                carkey_string_free(code);
            }
        } else if (strcmp(cmd, "cancel_pairing") == 0) {
            answer(carkey_client_cancel_pairing(client), NULL);
        } else if (strcmp(cmd, "next_decision") == 0) {
            int status = carkey_client_next_decision_json(client, atoi(arg(f, n, 1)), &out);
            answer_owned(status, out);
        } else if (strcmp(cmd, "free") == 0) {
            carkey_client_free(client);
            client = NULL;
            answer(0, NULL);
        } else {
            fprintf(stderr, "abi_driver: unknown request %s\n", cmd);
            return 2;
        }
    }
    carkey_client_free(client);
    return 0;
}
