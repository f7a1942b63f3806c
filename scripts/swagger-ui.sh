#!/usr/bin/env bash
# Vendors Swagger UI into shared/apidocs/ui/: the files the API reference page loads, from
# the swagger-ui-dist package of the npm registry, checked against the integrity the
# registry publishes, with the package's licences, and writes ui/VERSION. Nothing is
# fetched at run time: the files are embedded in the binaries (shared/apidocs).
#
#   bash scripts/swagger-ui.sh 5.35.0               # re-vendor exactly this version
#   bash scripts/swagger-ui.sh "$(npm view swagger-ui-dist version)"  # the latest
#
# Only 5.x: the page's initializer (shared/apidocs/swagger-initializer.js) and its
# Content-Security-Policy were checked against Swagger UI 5. After an update, run
# go test ./shared/apidocs/ ./functions/platform/docs/ and open make dev's /docs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

version=${1:?usage: scripts/swagger-ui.sh VERSION (the latest: npm view swagger-ui-dist version)}
case $version in
5.*) ;;
*) echo "swagger-ui.sh: $version is not a 5.x version; the initializer and the CSP are written for 5.x" >&2; exit 1 ;;
esac

# What the page loads, and the licences that go with the bundle. Not the standalone
# preset (the page uses the base layout), not the ES bundles, not the source maps.
files=(swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css favicon-16x16.png favicon-32x32.png LICENSE NOTICE)
dest=shared/apidocs/ui

work=$(mktemp -d /tmp/docsui-vendor-XXXXXX)
trap 'rm -rf "$work"' EXIT

integrity=$(npm view "swagger-ui-dist@$version" dist.integrity)
tarball=$(npm view "swagger-ui-dist@$version" dist.tarball)
if [[ -z $integrity || -z $tarball ]]; then
	echo "swagger-ui.sh: swagger-ui-dist@$version is not in the npm registry" >&2
	exit 1
fi
curl -fsSL --proto '=https' -o "$work/package.tgz" "$tarball"
actual="sha512-$(openssl dgst -sha512 -binary "$work/package.tgz" | openssl base64 -A)"
if [[ $actual != "$integrity" ]]; then
	echo "swagger-ui.sh: $tarball has integrity $actual, the registry says $integrity" >&2
	exit 1
fi
tar -xzf "$work/package.tgz" -C "$work"

mkdir -p "$dest"
for f in "${files[@]}"; do
	cp "$work/package/$f" "$dest/$f"
	chmod 644 "$dest/$f"
done
cat >"$dest/VERSION" <<EOF
swagger-ui-dist $version
integrity $integrity
tarball $tarball
vendored by: bash scripts/swagger-ui.sh $version
EOF
echo "vendored swagger-ui-dist $version into $dest:"
(cd "$dest" && ls -l "${files[@]}" VERSION)
