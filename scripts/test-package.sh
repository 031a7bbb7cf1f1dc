#!/usr/bin/env bash
# The package as a user installs it: packs canwire and its linux-x64-gnu
# platform package, installs both tarballs into an empty project in a temp
# folder with a PATH that holds node and npm but no cargo, rustc or C compiler,
# and runs `npx canwire demo`, an ESM import and a CommonJS require there.
# Checks that the native addon is loaded from the platform package, never from
# a `native/` folder. Needs `npm run build` first (dist/ and the .node file).
#
#   bash scripts/test-package.sh        (npm run test:package)
#
# KEEP=1 keeps the temp folder for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

platform=linux-x64-gnu
addon=native/canwire.$platform.node
[[ "$(node -p 'process.platform + "-" + process.arch')" == linux-x64 ]] \
  || { echo "test-package: this check packs the $platform binary; this host is not linux-x64"; exit 1; }
for built in dist/index.js dist/cli/main.js native/index.cjs "$addon"; do
  [[ -e $built ]] || { echo "test-package: $built is missing; run npm run build first"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/canwire-package.XXXXXX")
if [[ ${KEEP:-} == 1 ]]; then echo "test-package: keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
fail() { echo "test-package: FAIL: $*"; exit 1; }

echo "== npm pack: canwire"
main_tgz=$(npm pack --silent --pack-destination "$work" | tail -n 1)
main_tgz=$work/$main_tgz
tar -tzf "$main_tgz" >"$work/main-files.txt"
grep -q '^package/dist/index.js$' "$work/main-files.txt" || fail "dist/index.js is not in $main_tgz"
grep -q '^package/dist/cli/main.js$' "$work/main-files.txt" || fail "dist/cli/main.js is not in $main_tgz"
grep -q '^package/native/index.cjs$' "$work/main-files.txt" || fail "native/index.cjs is not in $main_tgz"
if grep -E '\.node$|^package/(src|crates|__test__|target)/' "$work/main-files.txt"; then
  fail "the canwire tarball carries a binary or sources it must not"
fi

# What `napi artifacts` does for this one target: the built addon into its
# npm/<platform> package. The repository's package.json has no
# optionalDependencies (`napi pre-publish` adds them at release), so the app
# below installs both tarballs, as npm would install canwire and its match.
echo "== npm pack: @canwire/binding-$platform"
mkdir "$work/platform"
cp "npm/$platform/package.json" "npm/$platform/README.md" "$work/platform/"
cp "$addon" "$work/platform/"
platform_tgz=$(cd "$work/platform" && npm pack --silent --pack-destination "$work" | tail -n 1)
platform_tgz=$work/$platform_tgz
tar -tzf "$platform_tgz" | grep -q "^package/canwire.$platform.node\$" \
  || fail "canwire.$platform.node is not in $platform_tgz"

# node, npm and npx plus the shell npm runs scripts with; nothing that builds.
mkdir "$work/bin"
for tool in node npm npx sh; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
clean_path=$work/bin
for compiler in cargo rustc cc gcc; do
  if PATH=$clean_path command -v "$compiler" >/dev/null; then fail "$compiler is on the test PATH"; fi
done

echo "== npm install <tarballs> into an empty project, PATH without cargo"
app=$work/app
mkdir "$app"
printf '{ "name": "canwire-package-check", "version": "1.0.0", "private": true }\n' >"$app/package.json"
(cd "$app" && PATH=$clean_path npm install --no-audit --no-fund --loglevel=error "$main_tgz" "$platform_tgz")
[[ -e $app/node_modules/@canwire/binding-$platform/canwire.$platform.node ]] \
  || fail "the platform package did not install its .node file"
if find "$app/node_modules/canwire" -name '*.node' | grep .; then fail "canwire installed a .node file of its own"; fi

echo "== npx canwire demo"
(cd "$app" && PATH=$clean_path npx --no-install canwire demo) | tee "$work/demo.txt"
grep -q 'every frame was received or counted as dropped, by every reader' "$work/demo.txt" \
  || fail "canwire demo did not report every frame accounted for"

cp "$root/scripts/package-check/"*.{mjs,cjs,mts,cts} "$app/"
echo "== ESM import"
(cd "$app" && PATH=$clean_path node esm-import.mjs)
echo "== CommonJS require"
(cd "$app" && PATH=$clean_path node cjs-require.cjs 2>"$work/cjs-stderr.txt") || { cat "$work/cjs-stderr.txt"; fail "require(\"canwire\") failed"; }
if [[ -s $work/cjs-stderr.txt ]]; then cat "$work/cjs-stderr.txt"; fail "require(\"canwire\") printed to stderr (a warning a user would see)"; fi
echo "== TypeScript consumers (ESM import and CommonJS import = require)"
cat >"$app/tsconfig.json" <<JSON
{
  "compilerOptions": {
    "module": "nodenext", "target": "es2022", "strict": true, "noEmit": true,
    "types": ["node"], "typeRoots": ["$root/node_modules/@types"]
  },
  "files": ["types-import.mts", "types-require.cts"]
}
JSON
(cd "$app" && PATH=$clean_path node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json)
echo "test-package: ok (canwire installed from tarballs, addon from @canwire/binding-$platform, no compiler on PATH)"
