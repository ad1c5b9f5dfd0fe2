#!/bin/sh
# Stands in for the LERG plan's `supabase functions deploy NAME --project-ref REF`:
# nothing is sent anywhere. It records, in $DEPLOY_RECORD (one line per function:
# name, new/updated, release), what a real deploy would have deployed, and keeps the
# record from before so the way back can restore it.
#
#   deploy-functions.sh deploy    record every function of functions.txt as deployed
#   deploy-functions.sh verify    each function is recorded at this release (exit 1 naming the missing)
#   deploy-functions.sh remove    schema rollback: the new functions removed, the updated ones kept
#   deploy-functions.sh restore   immediate rollback: the record as it was before the deploy
set -eu
here=$(dirname "$0")
list="$here/functions.txt"
record=${DEPLOY_RECORD:-deployed-functions.txt}
release=${DEPLOY_RELEASE:-lerg-cutover}
functions() { grep -v '^#' "$list" | grep -v '^[[:space:]]*$'; }

case "${1:-}" in
deploy)
    mkdir -p "$(dirname "$record")"
    if [ -f "$record" ] && [ ! -f "$record.before" ]; then cp "$record" "$record.before"; fi
    if [ ! -f "$record" ] && [ ! -f "$record.before" ]; then : > "$record.before"; fi
    functions | while read -r name kind; do echo "$name $kind $release"; done > "$record.tmp"
    mv "$record.tmp" "$record"
    while read -r name kind rel; do echo "deployed $name ($kind) at release $rel"; done < "$record"
    echo "$(functions | wc -l | tr -d ' ') function(s) recorded in $record"
    ;;
verify)
    missing=0
    for name in $(functions | cut -d' ' -f1); do
        if grep -q "^$name [a-z]* $release\$" "$record" 2>/dev/null; then
            echo "ok $name"
        else
            echo "MISSING $name: not recorded as deployed at release $release" >&2
            missing=$((missing + 1))
        fi
    done
    [ "$missing" -eq 0 ] || { echo "$missing function(s) not deployed" >&2; exit 1; }
    echo "every function recorded as deployed at release $release"
    ;;
remove)
    if [ ! -f "$record" ]; then echo "nothing recorded as deployed: nothing to remove"; exit 0; fi
    grep ' new ' "$record" | cut -d' ' -f1 | sed 's/^/removed /' || true
    grep -v ' new ' "$record" > "$record.tmp" || true
    mv "$record.tmp" "$record"
    ;;
restore)
    if [ -f "$record.before" ]; then
        mv "$record.before" "$record"
        echo "restored the function versions recorded before the deploy ($(wc -l < "$record" | tr -d ' ') function(s))"
    else
        echo "no deploy recorded by this cutover: the function versions are as they were"
    fi
    ;;
*)
    echo "usage: $0 deploy|verify|remove|restore" >&2
    exit 2
    ;;
esac
