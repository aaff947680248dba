/* wb-cli-pstm.c: `wavebench-cli synth`, `migrate` and `bench pstm`. */
#define G_LOG_DOMAIN "wavebench-cli"
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "wb-cl.h"
#include "wb-device.h"
#include "wb-error.h"
#include "wb-npy.h"
#include "wb-pstm.h"
#include "wb-segy.h"
#include "wb-synth.h"
#include "wb-tune.h"
#include "wb-cli-pstm.h"
#include "wb-cli-common.h"

/* "a,b,c" into doubles; between @min_n and @max_n of them. */
static gboolean
parse_list (const char *option,
            const char *text,
            guint       min_n,
            guint       max_n,
            double     *out,
            guint      *n_out,
            GError    **error)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);
  guint n = g_strv_length (parts);

  if (n < min_n || n > max_n)
    {
      if (min_n == max_n)
        g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                     "--%s: expected %u numbers separated by commas, got '%s'",
                     option, min_n, text);
      else
        g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                     "--%s: expected %u to %u numbers separated by commas, got '%s'",
                     option, min_n, max_n, text);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      char *end;
      char *s = g_strstrip (parts[i]);

      out[i] = g_ascii_strtod (s, &end);
      if (end == s || *end != '\0' || !isfinite (out[i]))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "--%s: '%s' is not a number", option, s);
          return FALSE;
        }
    }
  if (n_out)
    *n_out = n;
  return TRUE;
}

static gboolean
parse_pair_bytes (const char *option, const char *text, int *a, int *b, GError **error)
{
  double v[2];

  if (text == NULL)
    return TRUE;
  if (!parse_list (option, text, 2, 2, v, NULL, error))
    return FALSE;
  *a = (int) v[0];
  *b = (int) v[1];
  return TRUE;
}

static gboolean
parse_layout (WbSegyLayout *layout,
              const char   *source,
              const char   *receiver,
              const char   *cdp,
              int           scalar_byte,
              int           delay_byte,
              const char   *geometry,
              GError      **error)
{
  wb_segy_layout_init (layout);
  if (!parse_pair_bytes ("source-bytes", source, &layout->source_x, &layout->source_y, error)
      || !parse_pair_bytes ("receiver-bytes", receiver, &layout->receiver_x, &layout->receiver_y, error)
      || !parse_pair_bytes ("cdp-bytes", cdp, &layout->cdp_x, &layout->cdp_y, error))
    return FALSE;
  if (scalar_byte > 0)
    layout->scalar = scalar_byte;
  if (delay_byte > 0)
    layout->delay = delay_byte;
  if (geometry == NULL || g_str_equal (geometry, "sr"))
    layout->geometry = WB_SEGY_GEOMETRY_SOURCE_RECEIVER;
  else if (g_str_equal (geometry, "cdp"))
    layout->geometry = WB_SEGY_GEOMETRY_CDP;
  else
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "--geometry: expected sr or cdp, got '%s'", geometry);
      return FALSE;
    }
  return wb_segy_layout_check (layout, error);
}

static gboolean
parse_format (const char *text, int *format, GError **error)
{
  if (text == NULL || g_str_equal (text, "ieee"))
    *format = WB_SEGY_IEEE_FLOAT;
  else if (g_str_equal (text, "ibm"))
    *format = WB_SEGY_IBM_FLOAT;
  else
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "--format: expected ibm or ieee, got '%s'", text);
      return FALSE;
    }
  return TRUE;
}

static void
print_scan_progress (gsize done, gsize total, gpointer user_data)
{
  const char *what = user_data;

  if (isatty (STDERR_FILENO))
    g_printerr ("\r%s: %" G_GSIZE_FORMAT " / %" G_GSIZE_FORMAT " traces%s", what,
                done, total, done == total ? "\n" : "");
}

/* --- synth ------------------------------------------------------------- */

int
wb_cli_synth (int argc, char **argv)
{
  g_autofree char *output = NULL;
  g_autofree char *midpoints = NULL, *offsets = NULL, *azimuths = NULL;
  g_autofree char *velocity = NULL, *origin = NULL, *format_s = NULL;
  g_autofree char *source_bytes = NULL, *receiver_bytes = NULL, *cdp_bytes = NULL;
  g_autofree char *geometry = NULL;
  g_auto(GStrv) diffractors = NULL;
  g_auto(GStrv) reflectors = NULL;
  int samples = 0, scalar_byte = 0, delay_byte = 0;
  double dt = 0, delay = -1, frequency = 0, noise = -1;
  gint64 seed = -1;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "SEG-Y file to write (required)", "FILE.sgy" },
    { "midpoints", 0, 0, G_OPTION_ARG_STRING, &midpoints, "Midpoint grid (default 0,0,25,25,21,21)", "X0,Y0,DX,DY,NX,NY" },
    { "offsets", 0, 0, G_OPTION_ARG_STRING, &offsets, "Offsets in metres (default 0)", "H1,H2,..." },
    { "azimuths", 0, 0, G_OPTION_ARG_STRING, &azimuths, "Azimuths in degrees from +x (default 0)", "A1,A2,..." },
    { "samples", 'n', 0, G_OPTION_ARG_INT, &samples, "Samples per trace (default 250)", "NS" },
    { "dt", 0, 0, G_OPTION_ARG_DOUBLE, &dt, "Sample interval in seconds (default 0.004)", "S" },
    { "delay", 0, 0, G_OPTION_ARG_DOUBLE, &delay, "Time of the first sample in seconds (default 0)", "S" },
    { "frequency", 'f', 0, G_OPTION_ARG_DOUBLE, &frequency, "Ricker peak frequency (default 15)", "HZ" },
    { "velocity", 'v', 0, G_OPTION_ARG_STRING, &velocity, "vrms: m/s, or a file of 't v' lines (default 2000)", "V|FILE" },
    { "diffractor", 'd', 0, G_OPTION_ARG_STRING_ARRAY, &diffractors, "Point diffractor (repeatable); default one at the centre, t0 0.4 s", "X,Y,T0[,AMP]" },
    { "reflector", 'r', 0, G_OPTION_ARG_STRING_ARRAY, &reflectors, "Plane reflector through (X,Y) at time T0, dip and azimuth in degrees (repeatable)", "X,Y,T0,DIP,AZ[,AMP]" },
    { "noise", 0, 0, G_OPTION_ARG_DOUBLE, &noise, "Gaussian noise, std relative to the largest amplitude (default 0)", "REL" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Noise seed (default 1)", "N" },
    { "origin", 0, 0, G_OPTION_ARG_STRING, &origin, "Survey coordinates of local (0,0) (default 0,0)", "X,Y" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_s, "Sample format: ieee (default) or ibm", "FMT" },
    { "source-bytes", 0, 0, G_OPTION_ARG_STRING, &source_bytes, "Byte positions of source x,y (default 73,77)", "BX,BY" },
    { "receiver-bytes", 0, 0, G_OPTION_ARG_STRING, &receiver_bytes, "Byte positions of receiver x,y (default 81,85)", "BX,BY" },
    { "cdp-bytes", 0, 0, G_OPTION_ARG_STRING, &cdp_bytes, "Byte positions of CDP x,y (default 181,185)", "BX,BY" },
    { "scalar-byte", 0, 0, G_OPTION_ARG_INT, &scalar_byte, "Byte position of the coordinate scalar (default 71)", "B" },
    { "delay-byte", 0, 0, G_OPTION_ARG_INT, &delay_byte, "Byte position of the delay in ms (default 109)", "B" },
    { "geometry", 0, 0, G_OPTION_ARG_STRING, &geometry, "Write coordinates as sr (source/receiver, default) or cdp", "MODE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress output", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  WbSynthParams p;
  WbSegyLayout layout;
  int format;
  int rc = 0;

  if (!wb_cli_parse_options ("", "Write synthetic pre-stack seismic data (diffractors, dipping reflectors) as SEG-Y.",
                      entries, &argc, &argv))
    return 2;
  if (argc != 1)
    return wb_cli_usage_error ("synth: unexpected argument '%s'", argv[1]);
  if (output == NULL)
    return wb_cli_usage_error ("synth: --output FILE.sgy is required");

  wb_synth_params_init (&p);
  if (!parse_format (format_s, &format, &error)
      || !parse_layout (&layout, source_bytes, receiver_bytes, cdp_bytes, scalar_byte,
                        delay_byte, geometry, &error))
    goto out;
  if (midpoints != NULL)
    {
      double v[6];
      if (!parse_list ("midpoints", midpoints, 6, 6, v, NULL, &error))
        goto out;
      if (v[4] < 1 || v[5] < 1 || v[4] > 1e7 || v[5] > 1e7)
        {
          g_set_error (&error, WB_ERROR, WB_ERROR_INVALID,
                       "--midpoints: NX and NY must be in 1..10000000");
          goto out;
        }
      p.mx0 = v[0]; p.my0 = v[1]; p.mdx = v[2]; p.mdy = v[3];
      p.mnx = (guint) v[4]; p.mny = (guint) v[5];
    }
  if (offsets != NULL || azimuths != NULL)
    {
      double v[256];
      guint n;
      if (offsets != NULL)
        {
          if (!parse_list ("offsets", offsets, 1, 256, v, &n, &error))
            goto out;
          g_array_set_size (p.offsets, 0);
          g_array_append_vals (p.offsets, v, n);
        }
      if (azimuths != NULL)
        {
          if (!parse_list ("azimuths", azimuths, 1, 256, v, &n, &error))
            goto out;
          g_array_set_size (p.azimuths, 0);
          g_array_append_vals (p.azimuths, v, n);
        }
    }
  if (samples > 0) p.n_samples = samples;
  else if (samples < 0) { g_set_error (&error, WB_ERROR, WB_ERROR_INVALID, "--samples: must be > 0"); goto out; }
  if (dt != 0) p.dt = dt;
  if (delay >= 0) p.delay = delay;
  if (frequency != 0) p.frequency = frequency;
  if (noise >= 0) p.noise = noise;
  if (seed >= 0) p.seed = seed;
  if (velocity != NULL)
    {
      WbVelocity *vel = wb_velocity_parse (velocity, &error);
      if (vel == NULL)
        goto out;
      wb_velocity_free (p.velocity);
      p.velocity = vel;
    }
  if (origin != NULL)
    {
      double v[2];
      if (!parse_list ("origin", origin, 2, 2, v, NULL, &error))
        goto out;
      p.origin_x = v[0];
      p.origin_y = v[1];
    }
  for (guint i = 0; diffractors && diffractors[i]; i++)
    {
      double v[4] = { 0, 0, 0, 1 };
      WbDiffractor d;
      if (!parse_list ("diffractor", diffractors[i], 3, 4, v, NULL, &error))
        goto out;
      d.x = v[0]; d.y = v[1]; d.t0 = v[2]; d.amplitude = v[3];
      g_array_append_val (p.diffractors, d);
    }
  for (guint i = 0; reflectors && reflectors[i]; i++)
    {
      double v[6] = { 0, 0, 0, 0, 0, 1 };
      WbReflector r;
      if (!parse_list ("reflector", reflectors[i], 5, 6, v, NULL, &error))
        goto out;
      r.x = v[0]; r.y = v[1]; r.t0 = v[2]; r.dip = v[3]; r.azimuth = v[4]; r.amplitude = v[5];
      g_array_append_val (p.reflectors, r);
    }
  if (p.diffractors->len == 0 && p.reflectors->len == 0)
    {
      WbDiffractor d = { p.mx0 + 0.5 * (p.mnx - 1) * p.mdx,
                         p.my0 + 0.5 * (p.mny - 1) * p.mdy, 0.4, 1 };
      g_array_append_val (p.diffractors, d);
    }

  if (!wb_synth_write_segy (&p, output, format, &layout,
                            quiet ? NULL : print_scan_progress, (gpointer) "synth",
                            NULL, &error))
    goto out;
  if (!quiet)
    g_print ("%s: %" G_GSIZE_FORMAT " traces of %u samples (%s), %u diffractors, %u reflectors\n",
             output, wb_synth_n_traces (&p), p.n_samples, wb_segy_format_name (format),
             p.diffractors->len, p.reflectors->len);

out:
  wb_synth_params_clear (&p);
  if (error != NULL)
    rc = wb_cli_fail (g_steal_pointer (&error));
  return rc;
}

/* --- migrate ------------------------------------------------------------ */

typedef struct
{
  WbPstmJob    *job;
  GCancellable *cancellable;
  GMainLoop    *loop;
  GError       *error;
  gboolean      ok;
  gboolean      quiet;
  gboolean      tty;
  gint64        last_print;
} MigrateRun;

static char *
format_duration (double s)
{
  if (s < 0 || !isfinite (s))
    return g_strdup ("--:--");
  if (s >= 3600)
    return g_strdup_printf ("%d:%02d:%02d", (int) (s / 3600), ((int) s / 60) % 60, (int) s % 60);
  return g_strdup_printf ("%02d:%02d", (int) s / 60, (int) s % 60);
}

/* Called from the worker threads, one at a time. */
static void
migrate_progress (const WbPstmProgress *p, gpointer user_data)
{
  MigrateRun *run = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autofree char *eta = NULL;

  if (run->quiet)
    return;
  if (p->kind == WB_PSTM_EVENT_BATCH_DONE && run->tty && now - run->last_print < 200000)
    return;
  if (p->kind == WB_PSTM_EVENT_BATCH_DONE && !run->tty)
    return;
  if (p->kind == WB_PSTM_EVENT_TILE_STARTED || p->kind == WB_PSTM_EVENT_CHECKPOINT)
    return;
  run->last_print = now;
  eta = format_duration (p->eta);
  g_printerr ("%stile %u/%u (%s)  tiles done %u  traces %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
              "  %.3g traces/s  %.3g contributions/s  ETA %s%s",
              run->tty ? "\r" : "",
              p->tile + 1, p->n_tiles, p->device_id, p->tiles_done,
              p->traces_done, p->traces_total, p->traces_per_s, p->contributions_per_s,
              eta, run->tty ? "   " : "\n");
}

static gpointer
migrate_thread (gpointer data)
{
  MigrateRun *run = data;

  run->ok = wb_pstm_job_run (run->job, run->cancellable, &run->error);
  g_main_loop_quit (run->loop);
  return NULL;
}

static gboolean
on_sigint (gpointer data)
{
  MigrateRun *run = data;

  if (!run->quiet)
    g_printerr ("\ninterrupted: stopping after the current batch\n");
  g_cancellable_cancel (run->cancellable);
  return G_SOURCE_CONTINUE;
}

static GPtrArray *
lookup_devices (char **ids, GError **error)
{
  g_autofree char *notice = NULL;
  g_autoptr(GPtrArray) all = wb_device_list (&notice);
  g_autoptr(GPtrArray) chosen = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_device_unref);

  if (ids == NULL || ids[0] == NULL)
    {
      WbDevice *d = wb_device_lookup (all, "auto", NULL, error);
      if (d == NULL)
        return NULL;
      g_ptr_array_add (chosen, d);
      return g_steal_pointer (&chosen);
    }
  for (guint i = 0; ids[i]; i++)
    {
      g_auto(GStrv) parts = g_strsplit (ids[i], ",", -1);
      for (guint k = 0; parts[k]; k++)
        {
          WbDevice *d;

          if (*g_strstrip (parts[k]) == '\0')
            continue;
          d = wb_device_lookup (all, parts[k], NULL, error);
          if (d == NULL)
            return NULL;
          for (guint j = 0; j < chosen->len; j++)
            if (g_str_equal (((WbDevice *) chosen->pdata[j])->id, d->id))
              {
                g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                             "--backend: %s given twice", d->id);
                wb_device_unref (d);
                return NULL;
              }
          g_ptr_array_add (chosen, d);
        }
    }
  return g_steal_pointer (&chosen);
}

static char *
strip_sgy (const char *path)
{
  if (g_str_has_suffix (path, ".sgy") || g_str_has_suffix (path, ".segy")
      || g_str_has_suffix (path, ".SGY"))
    return g_strndup (path, strrchr (path, '.') - path);
  return g_strdup (path);
}

int
wb_cli_migrate (int argc, char **argv)
{
  g_autofree char *velocity_s = NULL, *output = NULL, *fold_path = NULL;
  g_autofree char *npy = NULL, *png = NULL, *tile = NULL, *grid = NULL, *bin = NULL;
  g_autofree char *times = NULL, *aperture = NULL, *checkpoint = NULL, *format_s = NULL;
  g_autofree char *source_bytes = NULL, *receiver_bytes = NULL, *cdp_bytes = NULL;
  g_autofree char *geometry = NULL, *kernels = NULL;
  g_auto(GStrv) backends = NULL;
  int scalar_byte = 0, delay_byte = 0, batch = 0;
  double memory_mib = 0, max_dip = 0, taper = -1, aa_dx = 0, batch_seconds = 0;
  double checkpoint_interval = -1;
  gboolean no_derivative = FALSE, no_obliquity = FALSE, spreading = FALSE;
  gboolean antialias = FALSE, normalize = FALSE, resume = FALSE, no_checkpoint = FALSE;
  gboolean quiet = FALSE, json = FALSE;
  GOptionEntry entries[] = {
    { "velocity", 'v', 0, G_OPTION_ARG_STRING, &velocity_s, "vrms: m/s, or a file of 't v' lines (required)", "V|FILE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Image as SEG-Y (required)", "IMAGE.sgy" },
    { "fold", 0, 0, G_OPTION_ARG_FILENAME, &fold_path, "Fold as SEG-Y (default IMAGE-fold.sgy)", "FILE.sgy" },
    { "npy", 0, 0, G_OPTION_ARG_FILENAME, &npy, "Also write PREFIX-image.npy and PREFIX-fold.npy", "PREFIX" },
    { "png", 0, 0, G_OPTION_ARG_FILENAME, &png, "Also write PREFIX-inline/-crossline/-time.png", "PREFIX" },
    { "backend", 'b', 0, G_OPTION_ARG_STRING_ARRAY, &backends, "Device id (repeatable or comma-separated: one thread each; default auto)", "ID" },
    { "tile", 0, 0, G_OPTION_ARG_STRING, &tile, "Tile size in output columns (default from the memory budget)", "NXxNY" },
    { "memory", 0, 0, G_OPTION_ARG_DOUBLE, &memory_mib, "Memory budget per device in MiB (default 256)", "MIB" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Fixed traces per launch (default adaptive)", "N" },
    { "batch-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &batch_seconds, "Target duration of a launch (default 0.2)", "S" },
    { "grid", 0, 0, G_OPTION_ARG_STRING, &grid, "Output grid in file coordinates (default: the midpoint extent)", "X0,Y0,DX,DY,NX,NY" },
    { "bin", 0, 0, G_OPTION_ARG_STRING, &bin, "Bin size for the default grid (default: the midpoint spacing)", "DX[,DY]" },
    { "time", 0, 0, G_OPTION_ARG_STRING, &times, "Output times (default: the input's)", "T0,DT,NT" },
    { "max-dip", 0, 0, G_OPTION_ARG_DOUBLE, &max_dip, "Largest dip imaged, degrees (default 60)", "DEG" },
    { "aperture", 0, 0, G_OPTION_ARG_STRING, &aperture, "Aperture radius clamp in metres (default 0,2000)", "MIN,MAX" },
    { "taper", 0, 0, G_OPTION_ARG_DOUBLE, &taper, "Cosine taper over this outer fraction of the aperture (default 0.1)", "FRAC" },
    { "no-derivative", 0, 0, G_OPTION_ARG_NONE, &no_derivative, "No time-derivative pre-filter", NULL },
    { "no-obliquity", 0, 0, G_OPTION_ARG_NONE, &no_obliquity, "No obliquity weight t0/t", NULL },
    { "spreading", 0, 0, G_OPTION_ARG_NONE, &spreading, "Spreading weight 1/(v t)", NULL },
    { "antialias", 0, 0, G_OPTION_ARG_NONE, &antialias, "Triangle anti-aliasing filter", NULL },
    { "aa-dx", 0, 0, G_OPTION_ARG_DOUBLE, &aa_dx, "Trace spacing for anti-aliasing (default the larger bin)", "M" },
    { "normalize-fold", 0, 0, G_OPTION_ARG_NONE, &normalize, "Divide the image by the fold", NULL },
    { "checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &checkpoint, "Checkpoint file (default IMAGE.sgy.ckpt)", "FILE" },
    { "checkpoint-interval", 0, 0, G_OPTION_ARG_DOUBLE, &checkpoint_interval, "Seconds between checkpoint writes (default 30)", "S" },
    { "no-checkpoint", 0, 0, G_OPTION_ARG_NONE, &no_checkpoint, "Keep no checkpoint", NULL },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &resume, "Skip the tiles a matching checkpoint holds", NULL },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_s, "Output sample format: ieee (default) or ibm", "FMT" },
    { "source-bytes", 0, 0, G_OPTION_ARG_STRING, &source_bytes, "Byte positions of source x,y (default 73,77)", "BX,BY" },
    { "receiver-bytes", 0, 0, G_OPTION_ARG_STRING, &receiver_bytes, "Byte positions of receiver x,y (default 81,85)", "BX,BY" },
    { "cdp-bytes", 0, 0, G_OPTION_ARG_STRING, &cdp_bytes, "Byte positions of CDP x,y (default 181,185)", "BX,BY" },
    { "scalar-byte", 0, 0, G_OPTION_ARG_INT, &scalar_byte, "Byte position of the coordinate scalar (default 71)", "B" },
    { "delay-byte", 0, 0, G_OPTION_ARG_INT, &delay_byte, "Byte position of the delay in ms (default 109)", "B" },
    { "geometry", 0, 0, G_OPTION_ARG_STRING, &geometry, "sr: source/receiver (default); cdp: CDP as zero offset", "MODE" },
    { "kernels", 'k', 0, G_OPTION_ARG_FILENAME, &kernels, "Load kernels from this directory", "DIR" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress output", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON summary", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(WbVelocity) velocity = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(WbPstmJob) job = NULL;
  g_autoptr(WbField) image = NULL;
  g_autoptr(WbField) fold = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autofree char *base = NULL;
  WbSegyLayout layout;
  WbPstmParams params;
  WbPstmStats stats;
  MigrateRun run = { 0 };
  int format, rc = 0;
  guint sig;
  GThread *thread;

  if (!wb_cli_parse_options ("INPUT.sgy", "Kirchhoff pre-stack time migration of a SEG-Y file.\n"
                      "Ctrl-C stops after the current batch and saves the finished tiles;\n"
                      "run again with --resume to continue.", entries, &argc, &argv))
    return 2;
  if (argc != 2)
    return wb_cli_usage_error ("migrate: expected exactly one INPUT.sgy");
  if (velocity_s == NULL)
    return wb_cli_usage_error ("migrate: --velocity V|FILE is required");
  if (output == NULL)
    return wb_cli_usage_error ("migrate: --output IMAGE.sgy is required");

  wb_pstm_params_init (&params);
  base = strip_sgy (output);
  if (!parse_format (format_s, &format, &error)
      || !parse_layout (&layout, source_bytes, receiver_bytes, cdp_bytes, scalar_byte,
                        delay_byte, geometry, &error))
    goto out;
  velocity = wb_velocity_parse (velocity_s, &error);
  if (velocity == NULL)
    goto out;
  devices = lookup_devices (backends, &error);
  if (devices == NULL)
    goto out;

  input = wb_pstm_input_new_segy (argv[1], &layout, quiet ? NULL : print_scan_progress,
                                  (gpointer) "header scan", NULL, &error);
  if (input == NULL)
    goto out;

  {
    double b[2] = { 0, 0 };
    guint nb = 0;
    if (bin != NULL && !parse_list ("bin", bin, 1, 2, b, &nb, &error))
      goto out;
    if (nb == 1)
      b[1] = b[0];
    if ((nb > 0 && (b[0] <= 0 || b[1] <= 0)))
      {
        g_set_error (&error, WB_ERROR, WB_ERROR_INVALID, "--bin: must be > 0 m");
        goto out;
      }
    if (!wb_pstm_params_auto_grid (&params, input, b[0], b[1], &error))
      goto out;
  }
  if (grid != NULL)
    {
      double v[6];
      if (!parse_list ("grid", grid, 6, 6, v, NULL, &error))
        goto out;
      if (v[4] < 1 || v[5] < 1 || v[4] > 1e6 || v[5] > 1e6)
        {
          g_set_error (&error, WB_ERROR, WB_ERROR_INVALID, "--grid: NX and NY must be in 1..1000000");
          goto out;
        }
      params.x0 = v[0]; params.y0 = v[1]; params.dx = v[2]; params.dy = v[3];
      params.nx = (guint) v[4]; params.ny = (guint) v[5];
    }
  if (times != NULL)
    {
      double v[3];
      if (!parse_list ("time", times, 3, 3, v, NULL, &error))
        goto out;
      if (v[2] < 1 || v[2] > 1e6)
        {
          g_set_error (&error, WB_ERROR, WB_ERROR_INVALID, "--time: NT must be in 1..1000000");
          goto out;
        }
      params.t0 = v[0]; params.dt = v[1]; params.nt = (guint) v[2];
    }
  if (aperture != NULL)
    {
      double v[2];
      if (!parse_list ("aperture", aperture, 2, 2, v, NULL, &error))
        goto out;
      params.aperture_min = v[0];
      params.aperture_max = v[1];
    }
  if (tile != NULL)
    {
      guint64 a, b;
      char *end;
      a = g_ascii_strtoull (tile, &end, 10);
      if (end == tile || (*end != 'x' && *end != 'X')
          || (b = g_ascii_strtoull (end + 1, &end, 10)) == 0 || *end != '\0'
          || a == 0 || a > G_MAXUINT32 || b > G_MAXUINT32)
        {
          g_set_error (&error, WB_ERROR, WB_ERROR_INVALID,
                       "--tile: expected NXxNY (for example 64x64), got '%s'", tile);
          goto out;
        }
      params.tile_nx = a;
      params.tile_ny = b;
    }
  if (memory_mib != 0)
    params.memory_budget = (guint64) (memory_mib * 1048576.0);
  if (batch < 0)
    {
      g_set_error (&error, WB_ERROR, WB_ERROR_INVALID, "--batch: must be > 0");
      goto out;
    }
  params.batch_traces = batch;
  if (batch_seconds != 0) params.batch_seconds = batch_seconds;
  if (max_dip != 0) params.max_dip = max_dip;
  if (taper >= 0) params.taper = taper;
  params.aa_dx = aa_dx;
  params.derivative = !no_derivative;
  params.obliquity = !no_obliquity;
  params.spreading = spreading;
  params.antialias = antialias;
  params.normalize_fold = normalize;
  if (!no_checkpoint)
    params.checkpoint = checkpoint ? g_strdup (checkpoint) : g_strdup_printf ("%s.ckpt", output);
  else if (resume)
    {
      g_set_error (&error, WB_ERROR, WB_ERROR_INVALID, "--resume needs a checkpoint");
      goto out;
    }
  if (checkpoint_interval >= 0)
    params.checkpoint_interval = checkpoint_interval;
  params.resume = resume;

  job = wb_pstm_job_new (input, &params, velocity, devices, kernels, &error);
  if (job == NULL)
    goto out;

  if (!quiet)
    {
      guint i0, j0, ni, nj;
      wb_pstm_job_tile_rect (job, 0, &i0, &j0, &ni, &nj);
      g_printerr ("migrating %" G_GSIZE_FORMAT " traces onto %u x %u x %u samples "
                  "(bins %g x %g m from %.2f, %.2f), %u tiles of %u x %u columns on",
                  wb_pstm_input_geometry (input)->n_traces, params.nx, params.ny, params.nt,
                  params.dx, params.dy, params.x0, params.y0,
                  wb_pstm_job_n_tiles (job), ni, nj);
      for (guint d = 0; d < devices->len; d++)
        g_printerr (" %s", ((WbDevice *) devices->pdata[d])->id);
      g_printerr ("\n");
    }

  cancellable = g_cancellable_new ();
  run.job = job;
  run.cancellable = cancellable;
  run.loop = g_main_loop_new (NULL, FALSE);
  run.quiet = quiet;
  run.tty = isatty (STDERR_FILENO);
  wb_pstm_job_set_progress (job, migrate_progress, &run);
  sig = g_unix_signal_add (SIGINT, on_sigint, &run);
  thread = g_thread_new ("wb-migrate", migrate_thread, &run);
  g_main_loop_run (run.loop);
  g_thread_join (thread);
  g_source_remove (sig);
  g_main_loop_unref (run.loop);
  if (!quiet && run.tty)
    g_printerr ("\n");
  if (!run.ok)
    {
      g_propagate_error (&error, run.error);
      goto out;
    }

  image = wb_pstm_job_get_image (job);
  fold = wb_pstm_job_get_fold (job);
  {
    g_autofree char *fp = fold_path ? g_strdup (fold_path) : g_strdup_printf ("%s-fold.sgy", base);
    if (!wb_segy_write_volume (image, output, format, &error)
        || !wb_segy_write_volume (fold, fp, format, &error))
      goto out;
    if (npy != NULL)
      {
        g_autofree char *a = g_strdup_printf ("%s-image.npy", npy);
        g_autofree char *b = g_strdup_printf ("%s-fold.npy", npy);
        if (!wb_npy_write_field (image, a, &error) || !wb_npy_write_field (fold, b, &error))
          goto out;
      }
    if (png != NULL && !wb_pstm_write_png_slices (image, png, -1, &error))
      goto out;

    wb_pstm_job_get_stats (job, &stats);
    if (json)
      {
        g_autoptr(JsonBuilder) b = json_builder_new ();
        g_autoptr(JsonGenerator) gen = json_generator_new ();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *s = NULL;

        json_builder_begin_object (b);
        json_builder_set_member_name (b, "image");
        json_builder_add_string_value (b, output);
        json_builder_set_member_name (b, "fold");
        json_builder_add_string_value (b, fp);
        json_builder_set_member_name (b, "tiles");
        json_builder_add_int_value (b, wb_pstm_job_n_tiles (job));
        json_builder_set_member_name (b, "tiles_computed");
        json_builder_add_int_value (b, stats.tiles_computed);
        json_builder_set_member_name (b, "tiles_resumed");
        json_builder_add_int_value (b, stats.tiles_resumed);
        json_builder_set_member_name (b, "traces");
        json_builder_add_int_value (b, stats.traces);
        json_builder_set_member_name (b, "contributions");
        json_builder_add_int_value (b, stats.contributions);
        json_builder_set_member_name (b, "live_contributions");
        json_builder_add_int_value (b, stats.live_contributions);
        json_builder_set_member_name (b, "seconds");
        json_builder_add_double_value (b, stats.seconds);
        json_builder_set_member_name (b, "contributions_per_s");
        json_builder_add_double_value (b, stats.seconds > 0 ? stats.contributions / stats.seconds : 0);
        json_builder_set_member_name (b, "traces_per_s");
        json_builder_add_double_value (b, stats.seconds > 0 ? stats.traces / stats.seconds : 0);
        json_builder_end_object (b);
        root = json_builder_get_root (b);
        json_generator_set_pretty (gen, TRUE);
        json_generator_set_root (gen, root);
        s = json_generator_to_data (gen, NULL);
        g_print ("%s\n", s);
      }
    else if (!quiet)
      g_print ("%s, %s: %u tiles (%u resumed), %" G_GUINT64_FORMAT " traces, %.3g contributions "
               "in %.2f s: %.3g traces/s, %.3g contributions/s\n",
               output, fp, wb_pstm_job_n_tiles (job), stats.tiles_resumed, stats.traces,
               (double) stats.contributions, stats.seconds,
               stats.seconds > 0 ? stats.traces / stats.seconds : 0,
               stats.seconds > 0 ? stats.contributions / stats.seconds : 0);
  }

out:
  wb_pstm_params_clear (&params);
  if (error != NULL)
    rc = wb_cli_fail (g_steal_pointer (&error));
  return rc;
}

/* --- bench pstm ---------------------------------------------------------- */

/* The tuning report's pstm blocks ("key: choice (source)" and its indented
 * trial lines), the last one per key: the warm-up runs report too. */
static char *
last_pstm_tuning (const char *report, guint64 trial)
{
  g_auto(GStrv) lines = g_strsplit (report, "\n", -1);
  g_autoptr(GHashTable) last = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "pstm"))
      {
        const char *colon = strstr (lines[i], ": ");
        g_hash_table_insert (last, g_strndup (lines[i], colon ? (gsize) (colon - lines[i]) : strlen (lines[i])),
                             GUINT_TO_POINTER (i));
      }
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *colon = strstr (lines[i], ": ");
      g_autofree char *key = NULL;

      if (!g_str_has_prefix (lines[i], "pstm"))
        continue;
      key = g_strndup (lines[i], colon ? (gsize) (colon - lines[i]) : strlen (lines[i]));
      if (GPOINTER_TO_UINT (g_hash_table_lookup (last, key)) != i)
        continue;
      g_string_append_printf (out, "    %s\n", lines[i]);
      for (guint j = i + 1; lines[j] != NULL && lines[j][0] == ' '; j++)
        {
          const char *us = g_str_has_suffix (lines[j], " us") ? strrchr (g_strchomp (lines[j]) , ' ') : NULL;
          double t = 0;

          /* "  choice   123.456 us": add the rate of the trial launch. */
          if (us != NULL && trial > 0)
            {
              const char *p = us - 1;
              while (p > lines[j] && p[-1] != ' ')
                p--;
              t = g_ascii_strtod (p, NULL);
            }
          if (t > 0)
            g_string_append_printf (out, "    %s  %.4g pairs/s\n", lines[j], trial / (t * 1e-6));
          else
            g_string_append_printf (out, "    %s\n", lines[j]);
        }
    }
  return g_string_free (out, FALSE);
}

/* --verify: the test suite's check on this device, for a device the suite
 * does not run on: a 15 x 15-midpoint survey with noise (900 traces),
 * output 15 x 15 x 100, 9 tiles, on the device (with the pinned or
 * default launch configuration) and on the reference; relative L2 of the
 * images (the suite's bound: 1e-5) and the fold samples that differ (the
 * suite's: none). */
static gboolean
bench_pstm_verify (WbDevice *device, const char *kernels, double *rel_l2, gsize *fold_diff,
                   gsize *samples, GError **error)
{
  double offsets[2] = { 100, 300 }, azimuths[2] = { 0, 90 };
  WbDiffractor d[2] = { { 175, 175, 0.3, 1 }, { 100, 250, 0.5, 2 } };
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  g_autoptr(WbPstmInput) input = NULL;
  WbField *img[2] = { NULL, NULL };
  WbField *fold[2] = { NULL, NULL };
  g_autoptr(WbDevice) ref = NULL;
  g_autoptr(GPtrArray) all = wb_device_list (NULL);
  WbSynthParams sp;
  WbPstmParams pp;
  double num = 0, den = 0;
  gboolean ok = TRUE;

  ref = wb_device_lookup (all, "reference", NULL, error);
  if (ref == NULL)
    return FALSE;
  wb_synth_params_init (&sp);
  g_array_set_size (sp.offsets, 0);
  g_array_append_vals (sp.offsets, offsets, 2);
  g_array_set_size (sp.azimuths, 0);
  g_array_append_vals (sp.azimuths, azimuths, 2);
  sp.mnx = sp.mny = 15;
  sp.n_samples = 200;
  sp.noise = 0.1;
  g_array_append_vals (sp.diffractors, d, 2);
  input = wb_synth_to_input (&sp, error);
  wb_synth_params_clear (&sp);
  if (input == NULL)
    return FALSE;
  wb_pstm_params_init (&pp);
  if (!wb_pstm_params_auto_grid (&pp, input, 25, 25, error))
    return FALSE;
  pp.t0 = 0.2;
  pp.nt = 100;
  pp.tile_nx = pp.tile_ny = 8;
  for (int b = 0; b < 2 && ok; b++)
    {
      g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_device_unref);
      g_autoptr(WbPstmJob) job = NULL;

      g_ptr_array_add (devices, wb_device_ref (b == 0 ? ref : device));
      job = wb_pstm_job_new (input, &pp, v, devices, kernels, error);
      ok = job != NULL && wb_pstm_job_run (job, NULL, error);
      if (ok)
        {
          img[b] = wb_pstm_job_get_image (job);
          fold[b] = wb_pstm_job_get_fold (job);
        }
    }
  if (ok)
    {
      *samples = wb_field_n_elements (img[0]);
      *fold_diff = 0;
      for (gsize i = 0; i < *samples; i++)
        {
          double e = (double) img[0]->data[i] - img[1]->data[i];
          num += e * e;
          den += (double) img[0]->data[i] * img[0]->data[i];
          *fold_diff += fold[0]->data[i] != fold[1]->data[i];
        }
      *rel_l2 = den > 0 ? sqrt (num / den) : 0;
    }
  for (int b = 0; b < 2; b++)
    {
      g_clear_pointer (&img[b], wb_field_unref);
      g_clear_pointer (&fold[b], wb_field_unref);
    }
  return ok;
}

typedef struct
{
  int           outputs;       /* per axis */
  guint         n_tiles;
  gsize         input_traces;
  WbPstmStats   st;
  WbPstmParams  pp;            /* as run (no checkpoint) */
} PstmBenchRun;

/* The benchmark case: @midpoints^2 midpoints 25 m apart, @offsets offsets
 * from 0 to 1200 m, one diffractor, @samples samples of 4 ms; output
 * @outputs^2 columns over the midpoint extent (0: from 8, doubled until a
 * run lasts a third of @seconds) by @samples times; constant 2000 m/s,
 * aperture @aperture m. */
static gboolean
bench_pstm_run (WbDevice *device, const char *kernels, int midpoints, int offsets, int outputs,
                int samples, double aperture, double seconds, PstmBenchRun *run, GError **error)
{
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_device_unref);
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(WbPstmJob) job = NULL;
  g_autoptr(WbVelocity) velocity = NULL;
  WbSynthParams sp;
  WbPstmParams pp;
  WbPstmStats st;
  WbDiffractor d;

  g_ptr_array_add (devices, wb_device_ref (device));
  wb_synth_params_init (&sp);
  sp.mnx = sp.mny = midpoints;
  sp.n_samples = samples;
  g_array_set_size (sp.offsets, 0);
  for (int i = 0; i < offsets; i++)
    {
      double h = offsets > 1 ? 1200.0 * i / (offsets - 1) : 0;
      g_array_append_val (sp.offsets, h);
    }
  d.x = 0.5 * (midpoints - 1) * sp.mdx;
  d.y = d.x;
  d.t0 = 0.5 * samples * sp.dt;
  d.amplitude = 1;
  g_array_append_val (sp.diffractors, d);
  input = wb_synth_to_input (&sp, error);
  wb_synth_params_clear (&sp);
  if (input == NULL)
    return FALSE;

  wb_pstm_params_init (&pp);
  if (!wb_pstm_params_auto_grid (&pp, input, 0, 0, error))
    return FALSE;
  pp.aperture_max = aperture;
  velocity = wb_velocity_new_constant (2000);

  /* A first small run builds (and caches) the program; then the output
   * grid doubles per axis until a run lasts a third of the target, so
   * that fixed costs (trace pre-filtering and upload) do not dominate a
   * fast device's figure. */
  {
    gboolean calibrate = outputs == 0;
    int n = 1;

    for (;;)
      {
        g_clear_pointer (&job, wb_pstm_job_free);
        pp.nx = pp.ny = n;
        pp.dx = pp.dy = (midpoints - 1) * 25.0 / MAX (n - 1, 1);
        job = wb_pstm_job_new (input, &pp, velocity, devices, kernels, error);
        if (job == NULL || !wb_pstm_job_run (job, NULL, error))
          return FALSE;
        wb_pstm_job_get_stats (job, &st);
        if (n == 1)
          n = calibrate ? 8 : outputs;      /* after the warm-up */
        else if (calibrate && st.seconds - st.setup_seconds - st.tune_seconds < seconds / 3 && n < 512)
          n *= 2;
        else
          break;
      }
    outputs = n;
  }
  run->outputs = outputs;
  run->n_tiles = wb_pstm_job_n_tiles (job);
  run->input_traces = wb_pstm_input_geometry (input)->n_traces;
  run->st = st;
  run->pp = pp;
  return TRUE;
}

/* One row of `bench all`: the default case, calibrated to this device. */
gboolean
wb_cli_bench_pstm_row (WbDevice     *device,
                       const char   *kernels,
                       JsonBuilder  *jb,
                       gboolean      print,
                       GError      **error)
{
  PstmBenchRun run;
  double migrate_s, rate, kernel_rate, pairs_rate, flops;

  if (!bench_pstm_run (device, kernels, 48, 4, 0, 500, 600, 2, &run, error))
    return FALSE;
  migrate_s = run.st.seconds - run.st.setup_seconds - run.st.tune_seconds;
  rate = migrate_s > 0 ? run.st.live_contributions / migrate_s : 0;
  kernel_rate = run.st.kernel_seconds > 0 ? run.st.live_contributions / run.st.kernel_seconds : rate;
  pairs_rate = migrate_s > 0 ? run.st.contributions / migrate_s : 0;
  flops = wb_pstm_flops_per_contribution (&run.pp);
  if (print)
    g_print ("pstm  %dx%dx%d %-12s %4" G_GSIZE_FORMAT " traces  %10.4g contributions/s (%.4g in kernels; "
             "%.3g TFLOP/s at %.0f flops each; %.4g trace-sample pairs/s)  arithmetic-bound: no GB/s\n",
             run.outputs, run.outputs, run.pp.nt, device->id, run.input_traces, rate, kernel_rate,
             rate * flops * 1e-12, flops, pairs_rate);
  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "solver");
  json_builder_add_string_value (jb, "pstm");
  json_builder_set_member_name (jb, "outputs");
  json_builder_add_int_value (jb, run.outputs);
  json_builder_set_member_name (jb, "samples");
  json_builder_add_int_value (jb, run.pp.nt);
  json_builder_set_member_name (jb, "input_traces");
  json_builder_add_int_value (jb, run.input_traces);
  json_builder_set_member_name (jb, "seconds");
  json_builder_add_double_value (jb, migrate_s);
  json_builder_set_member_name (jb, "contributions_per_s");
  json_builder_add_double_value (jb, rate);
  json_builder_set_member_name (jb, "kernel_contributions_per_s");
  json_builder_add_double_value (jb, kernel_rate);
  json_builder_set_member_name (jb, "pairs_per_s");
  json_builder_add_double_value (jb, pairs_rate);
  json_builder_set_member_name (jb, "flops_per_contribution");
  json_builder_add_double_value (jb, flops);
  json_builder_set_member_name (jb, "tflops");
  json_builder_add_double_value (jb, rate * flops * 1e-12);
  json_builder_end_object (jb);
  return TRUE;
}

int
wb_cli_bench_pstm (int argc, char **argv)
{
  g_autofree char *backend = NULL;
  g_autofree char *kernels = NULL;
  g_autofree char *variant = NULL;
  gboolean verify = FALSE;
  double peak = 0;
  int midpoints = 48, outputs = 0, samples = 500, offsets = 4;
  double aperture = 600, seconds = 2;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &backend, "Backend id or auto", "ID" },
    { "midpoints", 'm', 0, G_OPTION_ARG_INT, &midpoints, "Midpoints per axis (default 48)", "N" },
    { "offsets", 0, 0, G_OPTION_ARG_INT, &offsets, "Offsets per midpoint (default 4, 0..1200 m)", "N" },
    { "outputs", 'g', 0, G_OPTION_ARG_INT, &outputs, "Output columns per axis (default: from 8, doubled until a run lasts a third of --seconds)", "N" },
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds, "Target duration of the measured run (default 2)", "S" },
    { "samples", 'n', 0, G_OPTION_ARG_INT, &samples, "Samples per trace and per output column (default 500)", "NS" },
    { "aperture", 0, 0, G_OPTION_ARG_DOUBLE, &aperture, "Largest aperture radius, m (default 600)", "M" },
    { "kernels", 'k', 0, G_OPTION_ARG_FILENAME, &kernels, "Load kernels from this directory", "DIR" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "variant", 0, 0, G_OPTION_ARG_STRING, &variant, "Kernel launch configuration VARIANT:LXx1x1:KPW "
      "(e.g. strided:64x1x1:4; sets WAVEBENCH_TUNE_PIN=pstm=...)", "CHOICE" },
    { "verify", 0, 0, G_OPTION_ARG_NONE, &verify, "Also check this device against the reference "
      "(the test suite's case: relative L2 <= 1e-5, identical fold)", NULL },
    { "peak-tflops", 0, 0, G_OPTION_ARG_DOUBLE, &peak, "The device's FP32 peak, for the percentage "
      "(default: 67 on an H200)", "TF" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *notice = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(WbDevice) device = NULL;
  PstmBenchRun run;
  WbPstmParams pp;
  WbPstmStats st;
  double rate, kernel_rate, pairs_rate, kernel_pairs_rate, migrate_s, flops, tflops, kernel_tflops;
  g_autofree char *tune = NULL;

  if (!wb_cli_parse_options ("", "Measure Kirchhoff migration throughput: contributions/s (traces in aperture x\n"
                      "output samples per second) and traces/s, on synthetic data in memory.",
                      entries, &argc, &argv))
    return 2;
  if (argc != 1)
    return wb_cli_usage_error ("bench pstm: unexpected argument '%s'", argv[1]);
  if (midpoints < 1 || outputs < 0 || outputs > 4096 || samples < 2 || offsets < 1 || offsets > 64
      || aperture <= 0 || seconds <= 0)
    return wb_cli_usage_error ("bench pstm: --midpoints >= 1, --outputs 1..4096, --samples >= 2, --offsets 1..64, "
                  "--aperture > 0, --seconds > 0");
  if (variant != NULL)
    {
      g_autofree char *pin = g_strdup_printf ("pstm=%s", variant);
      g_setenv ("WAVEBENCH_TUNE_PIN", pin, TRUE);
    }

  all = wb_device_list (&notice);
  device = wb_device_lookup (all, backend ? backend : "auto", NULL, &error);
  if (device == NULL)
    return wb_cli_fail (g_steal_pointer (&error));

  if (!bench_pstm_run (device, kernels, midpoints, offsets, outputs, samples, aperture, seconds, &run, &error))
    return wb_cli_fail (g_steal_pointer (&error));
  outputs = run.outputs;
  st = run.st;
  pp = run.pp;
  /* Context creation, the program build and the launch tuning are once
   * per run (tuning once per device: cached) costs that a long migration
   * amortises: left out of the rate, reported apart.  The rest, the
   * migration proper, is every tile's wall time: reading and filtering
   * traces, uploads, kernels, read-back and storing into the image. */
  migrate_s = st.seconds - st.setup_seconds - st.tune_seconds;
  /* Contributions as the issue counts them: (trace, output sample) pairs
   * with the trace inside the sample's aperture and its DSR time inside
   * the trace: the fold summed.  Pairs: every trace a tile gathered times
   * every sample of the tile (what a kernel without culling evaluates). */
  rate = migrate_s > 0 ? st.live_contributions / migrate_s : 0;
  kernel_rate = st.kernel_seconds > 0 ? st.live_contributions / st.kernel_seconds : rate;
  pairs_rate = migrate_s > 0 ? st.contributions / migrate_s : 0;
  kernel_pairs_rate = st.kernel_seconds > 0 ? st.contributions / st.kernel_seconds : pairs_rate;
  pp.nx = pp.ny = outputs;
  flops = wb_pstm_flops_per_contribution (&pp);
  tflops = rate * flops * 1e-12;
  kernel_tflops = kernel_rate * flops * 1e-12;
  if (peak <= 0 && device->name != NULL && strstr (device->name, "H200") != NULL)
    peak = 67;   /* NVIDIA H200 datasheet: FP32 67 TFLOP/s (SXM) */
  {
    g_autofree char *report = wb_tune_report ();
    tune = last_pstm_tuning (report, st.tune_trial_contributions);
  }

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *s = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "device");
      json_builder_add_string_value (b, device->id);
      json_builder_set_member_name (b, "device_name");
      json_builder_add_string_value (b, device->name);
      json_builder_set_member_name (b, "driver");
      json_builder_add_string_value (b, device->driver_version);
      json_builder_set_member_name (b, "build_options");
      json_builder_add_string_value (b, WB_CL_BUILD_OPTIONS);
      json_builder_set_member_name (b, "outputs");
      json_builder_add_int_value (b, outputs);
      json_builder_set_member_name (b, "samples");
      json_builder_add_int_value (b, samples);
      json_builder_set_member_name (b, "input_traces");
      json_builder_add_int_value (b, run.input_traces);
      json_builder_set_member_name (b, "tiles");
      json_builder_add_int_value (b, run.n_tiles);
      json_builder_set_member_name (b, "traces");
      json_builder_add_int_value (b, st.traces);
      json_builder_set_member_name (b, "contributions");
      json_builder_add_int_value (b, st.live_contributions);
      json_builder_set_member_name (b, "pairs");
      json_builder_add_int_value (b, st.contributions);
      json_builder_set_member_name (b, "seconds");
      json_builder_add_double_value (b, st.seconds);
      json_builder_set_member_name (b, "setup_seconds");
      json_builder_add_double_value (b, st.setup_seconds);
      json_builder_set_member_name (b, "tune_seconds");
      json_builder_add_double_value (b, st.tune_seconds);
      json_builder_set_member_name (b, "migrate_seconds");
      json_builder_add_double_value (b, migrate_s);
      json_builder_set_member_name (b, "kernel_seconds");
      json_builder_add_double_value (b, st.kernel_seconds);
      json_builder_set_member_name (b, "host_seconds");
      json_builder_add_double_value (b, migrate_s - st.kernel_seconds);
      json_builder_set_member_name (b, "load_seconds");
      json_builder_add_double_value (b, st.load_seconds);
      json_builder_set_member_name (b, "lists_seconds");
      json_builder_add_double_value (b, st.lists_seconds);
      json_builder_set_member_name (b, "store_seconds");
      json_builder_add_double_value (b, st.store_seconds);
      json_builder_set_member_name (b, "teardown_seconds");
      json_builder_add_double_value (b, st.teardown_seconds);
      json_builder_set_member_name (b, "contributions_per_s");
      json_builder_add_double_value (b, rate);
      json_builder_set_member_name (b, "kernel_contributions_per_s");
      json_builder_add_double_value (b, kernel_rate);
      json_builder_set_member_name (b, "pairs_per_s");
      json_builder_add_double_value (b, pairs_rate);
      json_builder_set_member_name (b, "kernel_pairs_per_s");
      json_builder_add_double_value (b, kernel_pairs_rate);
      json_builder_set_member_name (b, "traces_per_s");
      json_builder_add_double_value (b, migrate_s > 0 ? st.traces / migrate_s : 0);
      json_builder_set_member_name (b, "flops_per_contribution");
      json_builder_add_double_value (b, flops);
      json_builder_set_member_name (b, "tflops");
      json_builder_add_double_value (b, tflops);
      json_builder_set_member_name (b, "kernel_tflops");
      json_builder_add_double_value (b, kernel_tflops);
      json_builder_set_member_name (b, "peak_tflops");
      json_builder_add_double_value (b, peak);
      json_builder_set_member_name (b, "tune_trial_pairs");
      json_builder_add_int_value (b, st.tune_trial_contributions);
      json_builder_set_member_name (b, "tuning");
      json_builder_add_string_value (b, tune);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      json_generator_set_pretty (gen, TRUE);
      json_generator_set_root (gen, root);
      s = json_generator_to_data (gen, NULL);
      g_print ("%s\n", s);
    }
  else
    {
      g_print ("pstm  %-12s %dx%dx%d outputs, %u input traces, %u tiles gathering %" G_GUINT64_FORMAT " traces\n",
               device->id, outputs, outputs, samples, (guint) run.input_traces, run.n_tiles, st.traces);
      g_print ("  %.4g contributions (trace inside the sample's aperture and DSR time inside the trace: the fold "
               "summed), %.0f%% of the %.4g trace-sample pairs the tiles gathered\n",
               (double) st.live_contributions, 100.0 * st.live_contributions / MAX (st.contributions, 1),
               (double) st.contributions);
      g_print ("  setup %.3f s (context, program, buffers), tuning %.3f s, teardown %.3f s: not counted\n",
               st.setup_seconds, st.tune_seconds, st.teardown_seconds);
      g_print ("  migration %.3f s = kernels %.3f s + host %.3f s (host work, overlapped or not: "
               "trace load %.3f s, block lists %.3f s, tile store %.3f s)\n",
               migrate_s, st.kernel_seconds, migrate_s - st.kernel_seconds, st.load_seconds,
               st.lists_seconds, st.store_seconds);
      g_print ("  overall %.4g contributions/s, in kernels %.4g  (pairs: %.4g/s overall, %.4g/s in kernels)\n",
               rate, kernel_rate, pairs_rate, kernel_pairs_rate);
      g_print ("  flops/contribution %.1f (linear%s%s%s, taper %g): %.3g TFLOP/s overall, "
               "%.3g in kernels",
               flops, pp.antialias ? " + anti-alias" : "", pp.obliquity ? ", obliquity" : "",
               pp.spreading ? ", spreading" : "", pp.taper, tflops, kernel_tflops);
      if (peak > 0)
        g_print (" = %.1f%% / %.1f%% of %.0f TFLOP/s FP32%s", 100 * tflops / peak, 100 * kernel_tflops / peak, peak,
                 device->name && strstr (device->name, "H200") ? " (H200 datasheet)" : "");
      g_print ("\n");
      if (tune != NULL && *tune != '\0')
        g_print ("  launch configuration (variant:local:samples per work-item):\n%s", tune);
      if (st.tune_trial_contributions > 0)
        g_print ("  (median of 3 trial launches of %.4g trace-sample pairs each on the first tile, as pairs/s)\n",
                 (double) st.tune_trial_contributions);
    }
  if (verify)
    {
      double err = 0;
      gsize diff = 0, n = 0;

      /* The same launch configuration as the run measured above. */
      if (variant == NULL && tune != NULL)
        {
          const char *c = strstr (tune, ": ");
          const char *e = c ? strchr (c + 2, ' ') : NULL;
          if (e != NULL)
            {
              variant = g_strndup (c + 2, e - (c + 2));
              g_autofree char *pin = g_strdup_printf ("pstm=%s", variant);
              g_setenv ("WAVEBENCH_TUNE_PIN", pin, TRUE);
            }
        }
      if (!bench_pstm_verify (device, kernels, &err, &diff, &n, &error))
        return wb_cli_fail (g_steal_pointer (&error));
      g_print ("  verify (%s, 15x15x100 outputs, 900 traces, against the reference): relative L2 %.3g "
               "(bound 1e-5), fold differs in %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " samples: %s\n",
               variant ? variant : "default launch", err, diff, n,
               err <= 1e-5 && diff == 0 ? "PASS" : "FAIL");
      if (!(err <= 1e-5 && diff == 0))
        return 1;
    }
  return 0;
}
