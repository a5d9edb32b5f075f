# shellcheck shell=bash
# Issues the ingress certificate on the first node (and, when NEW_CA=1, the cluster CA that
# signs it first). Parameters (quoted assignments before this text, see remote::with_params):
# TLS_DIR, CLUSTER, VIP, SANS (openssl's subjectAltName list), NEW_CA (1 or 0),
# INGRESS_KEY, INGRESS_CERT.
set -eu
umask 077
install -d -m 0755 "$TLS_DIR"
cd "$TLS_DIR"
if [ "$NEW_CA" = 1 ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key.new -out ca.crt.new \
    -days 3650 -subj "/CN=pairctl $CLUSTER cluster CA" -addext 'basicConstraints=critical,CA:TRUE' \
    -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
  chmod 0644 ca.crt.new
  mv -f ca.key.new ca.key
  mv -f ca.crt.new ca.crt
fi
t=$(mktemp -d "$TLS_DIR/.issue.XXXXXX")
trap 'rm -rf "$t"' EXIT
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$t/key" -out "$t/csr" -subj "/CN=$VIP" 2>/dev/null
printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' "subjectAltName=$SANS" > "$t/ext"
openssl x509 -req -in "$t/csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
  -days 825 -extfile "$t/ext" -out "$t/crt" 2>/dev/null
chmod 0644 "$t/crt"
chmod 0600 "$t/key"
mv -f "$t/key" "$INGRESS_KEY"
mv -f "$t/crt" "$INGRESS_CERT"
