# shellcheck shell=bash
# Reading JVM crash reports (hs_err files), for the scripts that start JVMs in the VM test bed.

# hs_err_summary FILE: one line saying why that JVM died: the signal (or internal error) and the
# problematic frame.
hs_err_summary() {
    printf '%s %s\n' "$(grep -m1 -E '^#  (SIG[A-Z]+|Internal Error)' "$1" | tr -s '# ' ' ')" \
        "$(grep -m1 -A1 '^# Problematic frame' "$1" | tail -1 | tr -s '# ' ' ')"
}
