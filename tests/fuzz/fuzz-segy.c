/* fuzz-segy: the SEG-Y reading path (text and binary headers, byte order,
 * trace headers, samples in every format).
 *
 * Input: a whole SEG-Y file, placed in an in-memory file (memfd) that the
 * reader opens by its /proc path, as it would open a file on disk.  A file
 * that opens is scanned with both geometry layouts and its first and last
 * traces are read.
 */
#define G_LOG_DOMAIN "wb-fuzz"
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wb-error.h"
#include "wb-segy.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
read_some (WbSegyReader *reader)
{
  gsize n = wb_segy_reader_n_traces (reader);
  guint ns = wb_segy_reader_n_samples (reader);
  g_autofree float *samples = g_new (float, ns);
  gsize which[2] = { 0, n - 1 };
  guint8 header[240];

  g_assert (n > 0 && ns > 0);
  g_assert (strlen (wb_segy_reader_text (reader)) == 3200);
  for (guint w = 0; w < 2; w++)
    {
      g_autoptr(GError) error = NULL;
      if (!wb_segy_reader_header (reader, which[w], header, &error) ||
          !wb_segy_reader_trace (reader, which[w], samples, &error))
        wb_fuzz_check_error (error);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static int fd = -1;
  static char path[64];
  g_autoptr(WbSegyReader) reader = NULL;
  g_autoptr(GError) error = NULL;

  wb_fuzz_init ();
  /* Cap the size so a run explores headers rather than copying megabytes. */
  if (size > 256 * 1024)
    return 0;
  if (fd < 0)
    {
      fd = memfd_create ("fuzz.sgy", 0);
      g_assert (fd >= 0);
      g_snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
    }
  g_assert (ftruncate (fd, 0) == 0);
  g_assert (pwrite (fd, data, size, 0) == (ssize_t) size);

  reader = wb_segy_reader_open (path, &error);
  if (reader == NULL)
    {
      wb_fuzz_check_error (error);
      return 0;
    }
  read_some (reader);
  for (int mode = 0; mode < 2; mode++)
    {
      WbSegyLayout layout;
      g_autoptr(WbSegyGeometry) geom = NULL;
      g_autoptr(GError) local = NULL;

      wb_segy_layout_init (&layout);
      layout.geometry = mode == 0 ? WB_SEGY_GEOMETRY_SOURCE_RECEIVER : WB_SEGY_GEOMETRY_CDP;
      /* Byte positions come from the user too (--layout options). */
      if (size > 3600)
        layout.scalar = 1 + data[3600] % 240;
      geom = wb_segy_scan (reader, &layout, NULL, NULL, NULL, &local);
      if (geom == NULL)
        {
          wb_fuzz_check_error (local);
          continue;
        }
      g_assert (geom->n_traces == wb_segy_reader_n_traces (reader));
      for (gsize i = 0; i < geom->n_traces; i++)
        g_assert (isfinite (geom->sx[i]) || isnan (geom->sx[i]) || isinf (geom->sx[i]));
    }
  return 0;
}
