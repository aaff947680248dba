/* fuzz-common.h: what every fuzz target shares (header-only, one include
 * per target).
 *
 * Criticals and warnings are fatal: a g_return_if_fail tripped by user
 * input is a bug as surely as a crash.  Every failure must come back as a
 * GError in our domains with a message, which is what the CLI prints.
 */
#pragma once

#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "wb-error.h"
#include "wb-guard.h"
#include "wb-launch.h"
#include "wb-preset.h"
#include "wb-sim.h"

static char *wb_fuzz_scratch;

static void
wb_fuzz_cleanup (void)
{
  if (wb_fuzz_scratch != NULL)
    g_rmdir (wb_fuzz_scratch);
}

static inline void
wb_fuzz_init (void)
{
  if (wb_fuzz_scratch != NULL)
    return;
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  wb_fuzz_scratch = g_dir_make_tmp ("wb-fuzz-XXXXXX", NULL);
  g_assert (wb_fuzz_scratch != NULL);
  atexit (wb_fuzz_cleanup);
}

static inline const char *
wb_fuzz_scratch_dir (void)
{
  return wb_fuzz_scratch;
}

/* An error the CLI would print: in our domains (or GLib's file errors),
 * with a non-empty message and a non-zero exit status. */
static inline void
wb_fuzz_check_error (const GError *error)
{
  g_assert (error != NULL);
  g_assert (error->message != NULL && error->message[0] != '\0');
  g_assert (error->domain == WB_ERROR || error->domain == WB_CL_ERROR ||
            error->domain == G_FILE_ERROR);
  g_assert (wb_error_exit_code (error) != 0);
}

/* Runs the solver's own validation, the same as `wavebench-cli validate`
 * but with no device. */
static inline void
wb_fuzz_validate (const WbPreset *preset)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) stripped = wb_guard_strip_preset (preset);
  const char *solver = wb_preset_get_solver (preset, NULL);
  WbSim *sim = NULL;

  if (solver == NULL)
    return;
  /* As wb_sim_validate does: the guard and debug sections are not the
   * solver's. */
  if (!wb_kernel_config_validate (stripped ? stripped : preset, &stripped, &error))
    {
      wb_fuzz_check_error (error);
      return;
    }
  if (stripped != NULL)
    preset = stripped;
  if (g_str_equal (solver, "bhte"))
    sim = wb_bhte_new (preset, NULL, NULL, TRUE, &error);
  else if (g_str_equal (solver, "vwe"))
    sim = wb_vwe_new (preset, NULL, NULL, TRUE, &error);
  if (sim != NULL)
    wb_sim_free (sim);
  else if (error != NULL)
    wb_fuzz_check_error (error);
}

/* Reads a whole file, for seeding from the bundled presets. */
static inline char *
wb_fuzz_read_source_file (const char *relative,
                          gsize      *length)
{
  g_autofree char *path = g_build_filename (WB_SOURCE_DIR, relative, NULL);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, length, NULL))
    return NULL;
  return contents;
}
