/* fuzz-set: the `--set KEY=VALUE` parser.
 *
 * Input: up to 8 lines, each one assignment, applied in order to a copy of
 * a bundled preset (as `wavebench-cli run PRESET --set A --set B` does);
 * then the result is looked up, validated by its solver and saved.
 */
#define G_LOG_DOMAIN "wb-fuzz"
#include "config.h"

#include <stdint.h>

#include "wb-error.h"
#include "wb-guard.h"
#include "wb-preset.h"
#include "wb-sim.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static WbPreset *base;

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(WbPreset) preset = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean ok = TRUE;

  wb_fuzz_init ();
  if (base == NULL)
    {
      g_autoptr(GError) error = NULL;
      base = wb_preset_load ("bhte-focused-ultrasound", &error);
      g_assert_no_error (error);
    }
  if (size > 4096)
    return 0;
  /* Command-line arguments are C strings: stop at a NUL as argv would. */
  text = g_strndup ((const char *) data, size);
  lines = g_strsplit (text, "\n", 9);
  preset = wb_preset_copy (base);
  for (guint i = 0; lines[i] != NULL && i < 8 && ok; i++)
    {
      g_autoptr(GError) error = NULL;
      char *eq;

      ok = wb_preset_set (preset, lines[i], &error);
      if (!ok)
        {
          wb_fuzz_check_error (error);
          break;
        }
      /* The path just set must be found again by the lookup. */
      eq = strchr (lines[i], '=');
      if (eq != NULL)
        {
          g_autofree char *path = g_strstrip (g_strndup (lines[i], eq - lines[i]));
          g_assert (wb_preset_lookup (preset, path) != NULL);
        }
    }
  if (ok)
    {
      g_autoptr(GError) error = NULL;
      WbGuardConfig guard;

      if (!wb_guard_config_from_preset (preset, &guard, &error))
        wb_fuzz_check_error (error);
      else
        wb_guard_config_clear (&guard);
      wb_fuzz_validate (preset);
    }
  return 0;
}
