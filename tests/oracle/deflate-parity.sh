#!/usr/bin/env bash
# Which DEFLATE gives byte parity with Node's zlib.deflateRawSync (what
# binary-version-reader compresses Particle asset modules with)?
#
# Builds the zlib that our flate2 backend links (libz-sys's bundled copy,
# canonical zlib) twice with a C compiler, as is and with
# zlib-anzac-hash.patch (Chromium zlib's insert_string: the "ANZAC" hash of
# four bytes instead of the rolling hash of three), and compares both with
# Node on the corpus of tests/particle_deflate.rs. Not part of scripts/test.sh:
# it is the evidence for issue 6, item 5. Since issue 14 the project encodes
# with assetota-core's pure-Rust zlib_deflate, which is the patched variant
# (Hash::Anzac4) or the canonical one (Hash::Rolling3); its tests are
# build-support/assetota-core/tests/zlib_deflate.rs.
#
#   tests/oracle/deflate-parity.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

version=$(awk '/^name = "libz-sys"/{getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"libz-sys-$version"/src/zlib 2>/dev/null | head -n1)
[ -n "$src" ] || { cargo fetch -q; src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"libz-sys-$version"/src/zlib | head -n1); }
echo "zlib sources: $src"

ASSETOTA_DEFLATE_DUMP="$work/corpus" cargo test -q -p cargo-assetota --test particle_deflate deflate_against_node_zlib >/dev/null
(cd tests/oracle && node -e '
  const fs = require("fs"), path = require("path");
  const dir = process.argv[1];
  const paths = fs.readdirSync(dir).sort().map((f) => path.join(dir, f));
  process.stdout.write(JSON.stringify({ ops: [{ op: "deflate", paths, outDir: process.argv[2] }] }));
' "$work/corpus" "$work/node" | node oracle.js >/dev/null)

cat >"$work/driver.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "zlib.h"
static unsigned char *slurp(const char *p, long *len) {
  FILE *f = fopen(p, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END); *len = ftell(f); fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(*len + 1);
  if (fread(b, 1, *len, f) != (size_t)*len) exit(2);
  fclose(f);
  return b;
}
int main(int argc, char **argv) {
  int same = 0, n = 0; long long ours = 0, node = 0;
  for (int i = 0;; i++) {
    char p[4096]; long len, nlen;
    snprintf(p, sizeof p, "%s/%03d", argv[1], i);
    unsigned char *in = slurp(p, &len);
    if (!in) break;
    snprintf(p, sizeof p, "%s/%d", argv[2], i);
    unsigned char *nd = slurp(p, &nlen);
    z_stream s; memset(&s, 0, sizeof s);
    deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    unsigned long cap = len + len / 100 + 1024; unsigned char *out = malloc(cap);
    s.next_in = in; s.avail_in = len; s.next_out = out; s.avail_out = cap;
    if (deflate(&s, Z_FINISH) != Z_STREAM_END) exit(3);
    same += s.total_out == (unsigned long)nlen && memcmp(out, nd, nlen) == 0;
    ours += s.total_out; node += nlen; n++;
    deflateEnd(&s); free(in); free(nd); free(out);
  }
  printf("%s: byte-identical to Node on %d of %d inputs; %lld bytes vs Node's %lld (%+.3f%%)\n",
         argv[3], same, n, ours, node, 100.0 * (ours - node) / node);
  return same == n ? 0 : 1;
}
EOF
for variant in canonical anzac; do
  cp -r "$src" "$work/$variant"
  [ "$variant" = anzac ] && (cd "$work/$variant" && patch -s -p1 <"$OLDPWD/tests/oracle/zlib-anzac-hash.patch")
  (cd "$work/$variant" && cc -O2 -I. -o "$work/$variant.bin" "$work/driver.c" adler32.c crc32.c deflate.c trees.c zutil.c)
  "$work/$variant.bin" "$work/corpus" "$work/node" "libz-sys $version zlib, $variant" || true
done
