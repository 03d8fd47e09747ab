#!/bin/bash
# Builds build/custos_VERSION_ARCH.deb with dpkg-deb from what `make install`
# installs (PREFIX=/usr, the unit in /lib/systemd/system): maintainer
# scripts and conffiles from dist/debian, Depends from the binary's
# DT_NEEDED libraries (dpkg-shlibdeps). Uses build/custos as it is.
#   scripts/mkdeb.sh VERSION      (make deb)
# DEB_MAINTAINER sets the Maintainer field.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:?usage: $0 VERSION}
build=${BUILD:-build}
arch=$(dpkg --print-architecture)
name=custos_${version}_$arch
stage=$PWD/$build/deb/$name
out=$build/$name.deb
maintainer=${DEB_MAINTAINER:-custos maintainers <root@localhost>}

for tool in dpkg-deb dpkg-shlibdeps strip; do
	command -v "$tool" >/dev/null || {
		echo "$0: $tool is missing (apt-get install dpkg-dev binutils)" >&2
		exit 1
	}
done

rm -rf "$stage"
# No chain key in the package: postinst makes one on each host.
${MAKE:-make} --no-print-directory -s install DESTDIR="$stage" PREFIX=/usr \
	UNITDIR=/lib/systemd/system CHAIN_KEY=no >/dev/null

# Debian's way: a stripped binary, compressed man pages, a copyright file.
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/sbin/custos"
gzip -9n "$stage"/usr/share/man/man*/*
install -m 0644 dist/debian/copyright "$stage/usr/share/doc/custos/copyright"

# Depends: the packages of the libraries the binary needs, at the versions
# whose symbols it uses.
shlibs=$(mktemp -d)
trap 'rm -rf "$shlibs"' EXIT
mkdir "$shlibs/debian"
printf 'Source: custos\n\nPackage: custos\nArchitecture: any\n' >"$shlibs/debian/control"
depends=$(cd "$shlibs" && dpkg-shlibdeps -O "$stage/usr/sbin/custos" 2> >(grep -v "should already be installed" >&2) |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || {
	echo "$0: dpkg-shlibdeps found no dependencies" >&2
	exit 1
}

mkdir -p "$stage/DEBIAN"
install -m 0755 dist/debian/postinst dist/debian/prerm dist/debian/postrm "$stage/DEBIAN/"
install -m 0644 dist/debian/conffiles "$stage/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
	-e "s|@SIZE@|$size|" -e "s|@DEPENDS@|$depends|" dist/debian/control.in >"$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
	xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"

dpkg-deb --root-owner-group --build "$stage" "$out" >/dev/null
echo "$out"
