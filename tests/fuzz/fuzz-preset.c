/* fuzz-preset: the preset JSON loader and every solver's validator.
 *
 * Input: a whole preset document.  It is loaded as a preset would be from
 * a file, its "guard" section is read, and each solver's parser checks it
 * in validate-only mode (nothing large is allocated, no device is needed).
 * Relative paths resolve in an empty scratch directory, so label maps and
 * source files are "not found" rather than whatever lies around.
 */
#define G_LOG_DOMAIN "wb-fuzz"
#include "config.h"

#include <stdint.h>
#include <glib/gstdio.h>

#include "wb-error.h"
#include "wb-guard.h"
#include "wb-preset.h"
#include "wb-sim.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(WbPreset) preset = NULL;
  g_autoptr(GError) error = NULL;
  WbGuardConfig guard;
  const char *solver;

  wb_fuzz_init ();
  preset = wb_preset_load_data ((const char *) data, size, "fuzz", wb_fuzz_scratch_dir (), &error);
  if (preset == NULL)
    {
      wb_fuzz_check_error (error);
      return 0;
    }
  /* Typed lookups must not trip on whatever shape the document has. */
  (void) wb_preset_lookup (preset, "grid.shape");
  (void) wb_preset_lookup (preset, "materials[0].name");
  if (!wb_guard_config_from_preset (preset, &guard, &error))
    {
      wb_fuzz_check_error (error);
      g_clear_error (&error);
    }
  else
    wb_guard_config_clear (&guard);
  solver = wb_preset_get_solver (preset, &error);
  if (solver == NULL)
    {
      wb_fuzz_check_error (error);
      return 0;
    }
  wb_fuzz_validate (preset);
  /* Saving must produce a document that loads back to an equal tree. */
  {
    gsize len = 0;
    g_autofree char *text = wb_preset_to_data (preset, &len);
    g_autoptr(WbPreset) again = wb_preset_load_data (text, len, "again", NULL, &error);
    if (again == NULL)
      {
        g_printerr ("re-loading a saved preset failed: %s\n", error->message);
        g_assert_not_reached ();
      }
  }
  return 0;
}
