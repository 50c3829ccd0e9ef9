#!/usr/bin/env bash
# check_layers.sh - fails when a source file includes a header of a higher layer.
#
# The allowed directions (docs/architecture.md): each layer may include its own headers and
# those of the layers listed for it, nothing else. Every project include is path-qualified
# ("clip/ops.h"); an unqualified one is an error too (only cli/main.c's generated commands.inc
# and the build's gen/ files are exempt).
#
# Usage: tests/check_layers.sh [SRC_DIR]   (default: src beside this script)
set -uo pipefail
src=${1:-"$(dirname "$0")/../src"}
declare -A allowed=(
  [util]="util"
  [clip]="util clip"
  [winclip]="util clip winclip"
  [data]="util data"
  [eval]="util eval"
  [harness]="util clip winclip data eval harness"
  [cli]="util clip winclip data eval harness cli"
)
bad=0; n=0
for dir in "$src"/*/; do
  layer=$(basename "$dir")
  if [ -z "${allowed[$layer]+x}" ]; then
    echo "check_layers: $dir: folder is not a known layer (known: ${!allowed[*]})" >&2; bad=$((bad+1)); continue
  fi
  for f in "$dir"*.[ch]; do
    [ -e "$f" ] || continue
    n=$((n+1))
    while IFS=: read -r line inc; do
      target=${inc%%/*}
      if [ "$target" = "$inc" ]; then
        [ "$inc" = commands.inc ] && [ "$layer" = cli ] && continue
        echo "check_layers: $f:$line: #include \"$inc\" is not path-qualified (write \"<layer>/$inc\")" >&2
        bad=$((bad+1)); continue
      fi
      case " ${allowed[$layer]} " in
        *" $target "*) ;;
        *) echo "check_layers: $f:$line: layer '$layer' includes \"$inc\" of layer '$target'; '$layer' may include only: ${allowed[$layer]}" >&2
           bad=$((bad+1)) ;;
      esac
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/')
  done
done
if [ "$bad" -gt 0 ]; then echo "check_layers: $bad wrong-way or unqualified include(s) in $n files" >&2; exit 1; fi
echo "layers: $n files, every include goes down or sideways"
