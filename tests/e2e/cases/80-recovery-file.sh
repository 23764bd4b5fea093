# e2e-timeout: 900
# kill -9 under load and recover: file target (direct: true) with recovery: true.
source "$E2E_TESTS/recovery.sh"
img=$FS/recovery.img
mk_yaml rf.yaml recf 256MiB file path="$img" direct=true create=true recovery=true depth=64
recovery_case recf rf.yaml "$img"
