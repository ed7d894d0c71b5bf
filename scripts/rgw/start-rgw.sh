#!/usr/bin/env bash
# Start a throwaway single-node Ceph (1 mon, 1 memstore osd, no mgr) + radosgw on 127.0.0.1:7480.
# Usage: start-rgw.sh [DIR]   (DIR defaults to ${TMPDIR:-/tmp}/ceph-rgw; it is wiped first)
set -euo pipefail
D=${1:-${TMPDIR:-/tmp}/ceph-rgw}
RGW_PORT=${RGW_PORT:-7480}
MON_V2=${MON_V2:-3300}
MON_V1=${MON_V1:-6789}
ACCESS_KEY=${ACCESS_KEY:-AKIATESTTESTTEST0001}
SECRET_KEY=${SECRET_KEY:-testsecretkey0000000000000000000000000001}

t_start=$(date +%s.%N)
# refuse to wipe the dir of a live cluster (its daemons would keep the ports and run on with deleted files)
for p in $MON_V2 $MON_V1 $RGW_PORT; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "port $p busy: run stop-rgw.sh first" >&2; exit 1; fi
done
rm -rf "$D"
mkdir -p "$D"/{run,log,mon.a,osd.0,rgw.a}
FSID=$(uuidgen)
CONF="$D/ceph.conf"
cat > "$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]
public addr = 127.0.0.1
public network = 127.0.0.1/32
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms client mode = crc
ms service mode = crc
ms cluster mode = crc
auth allow insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
keyring = $D/keyring
run dir = $D/run
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
crash dir = $D/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
ms bind ipv6 = false
# throwaway cluster: commit osdmap changes fast instead of once per second
paxos propose interval = 0.05
paxos min wait = 0.01

[mon]
mon data = $D/mon.\$id
mon cluster log file = $D/log/cluster.log

[osd]
osd data = $D/osd.\$id
osd objectstore = memstore
memstore device bytes = 4294967296
osd max object name len = 2048
osd max object namespace len = 64
osd crush update on start = true

[client.rgw.a]
rgw data = $D/rgw.a
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw dns name = localhost
rgw thread pool size = 64
EOF
export CEPH_CONF="$CONF"

# mon
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$D/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]" "$D/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring"
ceph-mon -i a
t_mon=$(date +%s.%N)

# osd (memstore: data lives in RAM; nothing on disk but a few small files)
OSD_UUID=$(uuidgen)
OSD_ID=$(timeout 30 ceph osd new "$OSD_UUID")
ceph-osd -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" 2>>"$D/log/osd-mkfs.err"
ceph-osd -i "$OSD_ID"
# wait until osd is up
for i in $(seq 1 120); do
  if timeout 10 ceph osd dump 2>/dev/null | grep -q "^osd.$OSD_ID up"; then break; fi
  sleep 0.5
done
t_osd=$(date +%s.%N)

# rgw (creates its pools on first start)
# radosgw forks into the background only after it has reached the mon and created its pools;
# with a bad auth/mode config it retries forever, hence the timeout.
timeout 60 radosgw -n client.rgw.a
for i in $(seq 1 240); do
  if curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/"; then break; fi
  sleep 0.5
done
t_rgw=$(date +%s.%N)

timeout 30 radosgw-admin user create --uid test --display-name test \
  --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >/dev/null
t_user=$(date +%s.%N)

echo "pids: mon=$(cat $D/run/mon.a.pid) osd=$(cat $D/run/osd.$OSD_ID.pid) rgw=$(cat $D/run/client.rgw.a.pid)"
awk -v a="$t_start" -v b="$t_mon" -v c="$t_osd" -v d="$t_rgw" -v e="$t_user" \
  'BEGIN{printf "timing: mon %.1fs, osd %.1fs, rgw %.1fs, user %.1fs, total %.1fs\n", b-a, c-b, d-c, e-d, e-a}'
