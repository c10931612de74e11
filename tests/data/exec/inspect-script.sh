# hsvc: DNS lookups from this pod (read-only)
M=@@hsvc@@
b() { printf '%s begin %s\n' "$M" "$*"; }
e() { printf '\n%s end %s\n' "$M" "$1"; }
has() { command -v "$1" >/dev/null 2>&1; }
b resolv.conf; cat /etc/resolv.conf 2>&1; e $?
b libc; getconf GNU_LIBC_VERSION 2>/dev/null; ls /lib/ld-musl-* 2>/dev/null; e 0
b tools; for t in getent dig nslookup python3; do command -v "$t"; done; e 0
if ! has dig && has nslookup; then b nslookup-version; nslookup </dev/null 2>&1 | head -n 2; e 0; fi
S=; while read -r k v; do case "$k" in search|domain) S=$v;; esac; done 2>/dev/null </etc/resolv.conf
g() { if has getent; then b getent "$1"; getent ahosts "$1" 2>&1; e $?; elif has python3; then b python3 "$1"; python3 -c "$P" "$1" 2>&1; e $?; fi; }
q() { if has dig; then b dig "$1" "$2"; dig +noall +comments +question +answer +tries=1 +time=1 "$1" "$2" 2>&1; e $?; elif has nslookup; then b nslookup "$1" "$2"; nslookup -type="$2" -timeout=1 -retry=1 "$1" 2>&1; e $?; fi; }
x() { n=$1; case "$n" in *.) ;; *) for d in $S; do d=${d%.}; [ -n "$d" ] || continue; for t in ; do q "$n.$d." "$t"; done; done; n="$n.";; esac; for t in ; do q "$n" "$t"; done; }
P='import socket,sys
try:
 r=socket.getaddrinfo(sys.argv[1],None,0,socket.SOCK_STREAM,0,socket.AI_CANONNAME)
except socket.gaierror as e:
 print(e);sys.exit(2)
for i,x in enumerate(r):print(x[4][0],"STREAM",x[3] if i==0 else "")
'
q eureka.ms.svc.cluster.local. A
q 10-244-1-210.eureka.ms.svc.cluster.local. A
q eureka-0.eureka.ms.svc.cluster.local. A
q 10-244-2-45.eureka.ms.svc.cluster.local. A
q eureka-1.eureka.ms.svc.cluster.local. A
q 10-244-1-211.eureka.ms.svc.cluster.local. A
q eureka-2.eureka.ms.svc.cluster.local. A
q eureka.ms.svc.cluster.local. SRV
q _eureka._tcp.eureka.ms.svc.cluster.local. SRV
q 210.1.244.10.in-addr.arpa. PTR
q 45.2.244.10.in-addr.arpa. PTR
q 211.1.244.10.in-addr.arpa. PTR
q 10-244-1-210.ms.pod.cluster.local. A
q 10-244-2-45.ms.pod.cluster.local. A
q 10-244-1-211.ms.pod.cluster.local. A
q dns-version.cluster.local. TXT
