#!/bin/sh
# The German translation is complete: every user-visible string of the
# files in po/POTFILES.in is translated (none missing, none fuzzy), the
# catalogue compiles with format checks, and every source file with
# translatable strings is listed in POTFILES.in.
# usage: check-po.sh SOURCE_DIR
set -eu
src=${1:?source dir}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"

status=0
for f in $(grep -l -E '\b_\(|N_\(|translatable="yes"' src/app/*.c ui/*.ui 2>/dev/null); do
  if ! grep -qx "$f" po/POTFILES.in; then
    echo "not in po/POTFILES.in: $f"
    status=1
  fi
done

# The same keywords as meson's i18n.gettext (preset: 'glib').
grep -v '^#' po/POTFILES.in | grep -v '^$' > "$tmp/files"
xgettext --from-code=UTF-8 --add-comments --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
  --keyword=NC_:1c,2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=g_dngettext:2:pass-c-format \
  --flag=g_strdup_printf:1:c-format --flag=g_set_error:4:c-format \
  -f "$tmp/files" -o "$tmp/wavebench.pot"

for lang in $(grep -v '^#' po/LINGUAS); do
  msgmerge --quiet --no-fuzzy-matching "po/$lang.po" "$tmp/wavebench.pot" -o "$tmp/$lang.po"
  stats=$(msgfmt --check --statistics -o /dev/null "$tmp/$lang.po" 2>&1)
  echo "$lang: $stats"
  case "$stats" in
    *untranslated*|*fuzzy*) status=1 ;;
  esac
  # Translations no source string uses any more are dead weight.
  if grep -q '^#~' "$tmp/$lang.po"; then
    echo "$lang: obsolete entries:"; grep -A1 '^#~ msgid' "$tmp/$lang.po" | head -20
    status=1
  fi
done
exit $status
