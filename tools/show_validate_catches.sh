#!/usr/bin/env bash
# Shows that `make validate` (our content layout check, then demisto-sdk validate with
# validation_config.toml) fails on three kinds of broken detection content, each in a scratch
# clone of this repository: a scheduled correlation rule without its search window, the playbook
# without its README, and the trigger pointing at a playbook that does not exist.
# Run from the repository root after `make install`: tools/show_validate_catches.sh
set -uo pipefail

root=$(pwd)
if [[ ! -x "$root/.venv/bin/python" || ! -x "$root/.venv-sdk/bin/demisto-sdk" ]]; then
    echo "run 'make install' first (needs .venv and .venv-sdk in $root)" >&2
    exit 2
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

pack=Packs/LivePerson
rule=$pack/CorrelationRules/LivePerson_Mass_Deletion_By_One_User.yml
readme=$pack/Playbooks/LivePerson_-_Review_Audit_Trail_Changes_README.md
trigger=$pack/Triggers/LivePerson_-_Review_Audit_Trail_Changes.json

break_rule() { sed -i '/^search_window:/d' "$rule"; }
drop_readme() { rm "$readme"; }
orphan_trigger() { sed -i 's/"playbook_id": "[^"]*"/"playbook_id": "LivePerson - No Such Playbook"/' "$trigger"; }

failures=0
for breakage in break_rule drop_readme orphan_trigger; do
    copy="$scratch/$breakage"
    git clone -q "$root" "$copy"
    (cd "$copy" && $breakage && git add -A && git -c user.name=scratch -c user.email=scratch@localhost commit -qm "$breakage")
    layout=$(cd "$copy" && "$root/.venv/bin/python" tools/check_content_layout.py 2>&1)
    layout_rc=$?
    sdk=$(cd "$copy" && DEMISTO_SDK_IGNORE_CONTENT_WARNING=1 "$root/.venv-sdk/bin/demisto-sdk" validate -a \
        --config-path validation_config.toml 2>&1)
    sdk_rc=$?
    echo "=== $breakage: content layout check exit $layout_rc, demisto-sdk validate exit $sdk_rc"
    grep -E "problem|: " <<<"$layout" | grep -v "0 problem" | sed 's/^/  layout: /'
    grep -oE "\[[A-Z]{2}[0-9]{3}\][^\[]*" <<<"$sdk" | cut -c1-200 | sort -u | sed 's/^/  sdk:    /'
    if [[ $layout_rc -eq 0 && $sdk_rc -eq 0 ]]; then
        echo "  NOT CAUGHT"
        failures=$((failures + 1))
    fi
done
echo "$((3 - failures)) of 3 breakages caught"
exit "$failures"
