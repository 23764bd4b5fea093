# e2e-timeout: 900
# kill -9 under load and recover: memory target with recovery: true (its RAM file in /dev/shm
# outlives the gateway); `down` removes the RAM file. `recover --metrics-listen` serves the
# recovered device's metrics.
source "$E2E_TESTS/recovery.sh"
mk_yaml rm.yaml recm 256MiB memory recovery=true depth=64 "stages=[{type: stats}]"
RECOVER_METRICS=1 recovery_case recm rm.yaml ""
[[ ! -e $SHM_DIR/recm.mem ]] || fail "$SHM_DIR/recm.mem still exists after down"
