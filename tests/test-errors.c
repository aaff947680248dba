/* test-errors: the catalogue of bad inputs (docs/errors.md), end to end.
 *
 * Each case runs the built wavebench-cli ($WAVEBENCH_CLI) in a fresh
 * directory holding the files the case writes (presets, .npy label maps,
 * SEG-Y files, kernel directories) and asserts the exit status and a
 * substring of the message the user sees.  The bad presets that
 * tests/test-cli.c already covers are not repeated here.
 *
 * Then the run-time faults: a blow-up stops the run with the step, field
 * and cell and writes the last good state; an injected launch failure
 * (WAVEBENCH_FAULT_ENQUEUE) stops with a clear message or falls back to the
 * reference backend on request; an injected full disk
 * (WAVEBENCH_IO_FAIL_AFTER) leaves every previous file intact.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#include "wb-error.h"
#include "wb-field.h"
#include "wb-io.h"
#include "wb-npy.h"
#include "wb-preset.h"

/* --- running the CLI ----------------------------------------------------- */

typedef struct
{
  int   status;
  char *out;
  char *err;
} Result;

static void
result_clear (Result *r)
{
  g_free (r->out);
  g_free (r->err);
}

static Result
cli_in (const char         *dir,
        const char * const *args,
        const char         *env_extra)
{
  const char *exe = g_getenv ("WAVEBENCH_CLI");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) envp = g_get_environ ();
  g_autoptr(GError) error = NULL;
  Result r = { 0 };
  int wait_status = 0;

  g_assert_nonnull (exe);
  g_ptr_array_add (argv, (char *) exe);
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  /* A clean slate: no inherited override or injected fault. */
  envp = g_environ_unsetenv (envp, "WAVEBENCH_KERNEL_DIR");
  envp = g_environ_unsetenv (envp, "WAVEBENCH_FAULT_ENQUEUE");
  envp = g_environ_unsetenv (envp, "WAVEBENCH_IO_FAIL_AFTER");
  if (env_extra)
    {
      g_auto(GStrv) kv = g_strsplit (env_extra, "=", 2);
      envp = g_environ_setenv (envp, kv[0], kv[1], TRUE);
    }
  g_assert_true (g_spawn_sync (dir, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                               &r.out, &r.err, &wait_status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  r.status = WEXITSTATUS (wait_status);
  return r;
}

static void
put (const char *dir,
     const char *name,
     const void *data,
     gssize      len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, data, len, NULL));
}

static void
put_text (const char *dir,
          const char *name,
          const char *text)
{
  put (dir, name, text, -1);
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

/* --- file builders ------------------------------------------------------- */

/* A .npy file: @dict is the header dictionary text, @data the raw bytes. */
static GBytes *
npy_bytes (const char *dict,
           const void *data,
           gsize       len)
{
  GByteArray *b = g_byte_array_new ();
  GString *h = g_string_new (dict);
  guint16 hlen;

  /* Pad so that magic + version + length + header is a multiple of 64. */
  while ((10 + h->len + 1) % 64 != 0)
    g_string_append_c (h, ' ');
  g_string_append_c (h, '\n');
  hlen = GUINT16_TO_LE ((guint16) h->len);
  g_byte_array_append (b, (const guint8 *) "\x93NUMPY\x01\x00", 8);
  g_byte_array_append (b, (const guint8 *) &hlen, 2);
  g_byte_array_append (b, (const guint8 *) h->str, h->len);
  if (len > 0)
    g_byte_array_append (b, data, len);
  g_string_free (h, TRUE);
  return g_byte_array_free_to_bytes (b);
}

static void
put_bytes (const char *dir,
           const char *name,
           GBytes     *bytes)
{
  put (dir, name, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_bytes_unref (bytes);
}

/* A 4x4x4 two-material bhte preset reading its label map from labels.npy. */
static const char *labels_preset =
  "{ \"solver\": \"bhte\", \"grid\": { \"shape\": [4, 4, 4], \"spacing\": 0.001 },\n"
  "  \"time\": { \"dt\": 0.1, \"steps\": 2 }, \"materials\": [\"brain\", \"cortical_bone\"],\n"
  "  \"labels\": \"labels.npy\" }\n";

static void
put_labels (const char *dir,
            const char *dict,
            const void *data,
            gsize       len)
{
  put_text (dir, "p.json", labels_preset);
  put_bytes (dir, "labels.npy", npy_bytes (dict, data, len));
}

static void
setup_npy_magic (const char *dir)
{
  put_text (dir, "p.json", labels_preset);
  put_text (dir, "labels.npy", "PK\x03\x04 this is a zip file, not an array");
}

static void
setup_npy_truncated (const char *dir)
{
  guint8 labels[10] = { 0 };
  put_labels (dir, "{'descr': '|u1', 'fortran_order': True, 'shape': (4, 4, 4), }", labels, sizeof labels);
}

static void
setup_npy_shape (const char *dir)
{
  guint8 labels[32] = { 0 };
  put_labels (dir, "{'descr': '|u1', 'fortran_order': True, 'shape': (4, 4, 2), }", labels, sizeof labels);
}

static void
setup_npy_value (const char *dir)
{
  guint8 labels[64] = { 0 };
  labels[1 + 4 * (2 + 4 * 3)] = 7;
  put_labels (dir, "{'descr': '|u1', 'fortran_order': True, 'shape': (4, 4, 4), }", labels, sizeof labels);
}

static void
setup_npy_dtype (const char *dir)
{
  guint8 labels[64 * 8] = { 0 };
  put_labels (dir, "{'descr': '<c8', 'fortran_order': True, 'shape': (4, 4, 4), }", labels, sizeof labels);
}

static void
setup_npy_fraction (const char *dir)
{
  float labels[64] = { 0 };
  labels[5] = 0.5f;
  put_labels (dir, "{'descr': '<f4', 'fortran_order': True, 'shape': (4, 4, 4), }", labels, sizeof labels);
}

static void
setup_npy_header (const char *dir)
{
  guint8 labels[64] = { 0 };
  put_labels (dir, "{'descr': '|u1', 'fortran_order': True, 'shape': (4, 4, 4", labels, sizeof labels);
}

static void
setup_npy_version (const char *dir)
{
  guint8 labels[64] = { 0 };
  GBytes *b = npy_bytes ("{'descr': '|u1', 'fortran_order': True, 'shape': (4, 4, 4), }", labels, sizeof labels);
  guint8 *copy = g_memdup2 (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  copy[6] = 9;
  put_text (dir, "p.json", labels_preset);
  put (dir, "labels.npy", copy, g_bytes_get_size (b));
  g_free (copy);
  g_bytes_unref (b);
}

static void
setup_npy_dims (const char *dir)
{
  guint8 labels[64] = { 0 };
  put_labels (dir, "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2, 2, 2, 4), }", labels, sizeof labels);
}

/* A big-endian SEG-Y file: @ns samples of IEEE floats per trace. */
static GByteArray *
segy_new (int ns,
          int format,
          int interval_us,
          int ntr,
          gboolean coords)
{
  GByteArray *b = g_byte_array_new ();
  guint8 text[3200], bin[400];

  memset (text, ' ', sizeof text);
  memcpy (text, "C 1 WAVEBENCH TEST", 18);
  memset (bin, 0, sizeof bin);
  bin[16] = interval_us >> 8;
  bin[17] = interval_us & 0xff;
  bin[20] = ns >> 8;
  bin[21] = ns & 0xff;
  bin[24] = format >> 8;
  bin[25] = format & 0xff;
  g_byte_array_append (b, text, sizeof text);
  g_byte_array_append (b, bin, sizeof bin);
  for (int t = 0; t < ntr; t++)
    {
      guint8 h[240];
      memset (h, 0, sizeof h);
      h[114] = ns >> 8;
      h[115] = ns & 0xff;
      if (coords)
        {
          /* source x at byte 73, receiver x at byte 81: 1000 + 10 t m */
          guint32 sx = GUINT32_TO_BE (1000 + 10 * t), rx = GUINT32_TO_BE (1100 + 10 * t);
          memcpy (h + 72, &sx, 4);
          memcpy (h + 80, &rx, 4);
        }
      g_byte_array_append (b, h, sizeof h);
      for (int s = 0; s < ns; s++)
        {
          guint8 zero[4] = { 0 };
          g_byte_array_append (b, zero, 4);
        }
    }
  return b;
}

static void
put_segy (const char *dir,
          GByteArray *b,
          gsize       cut)
{
  put (dir, "in.sgy", b->data, b->len - cut);
  g_byte_array_unref (b);
}

static void setup_segy_short (const char *dir) { put_segy (dir, segy_new (8, 5, 4000, 1, TRUE), 2000); }
static void setup_segy_format (const char *dir) { put_segy (dir, segy_new (8, 7, 4000, 2, TRUE), 0); }
static void setup_segy_ragged (const char *dir) { put_segy (dir, segy_new (8, 5, 4000, 3, TRUE), 5); }
static void setup_segy_samples (const char *dir) { put_segy (dir, segy_new (0, 5, 4000, 2, TRUE), 0); }
static void setup_segy_interval (const char *dir) { put_segy (dir, segy_new (8, 5, 0, 2, TRUE), 0); }
static void setup_segy_coords (const char *dir) { put_segy (dir, segy_new (8, 5, 4000, 4, FALSE), 0); }
static void setup_segy_empty (const char *dir) { put_segy (dir, segy_new (8, 5, 4000, 0, TRUE), 0); }

static void
setup_segy_trace_ns (const char *dir)
{
  GByteArray *b = segy_new (8, 5, 4000, 3, TRUE);
  /* The second trace header claims 9 samples. */
  b->data[3600 + 1 * (240 + 32) + 115] = 9;
  put_segy (dir, b, 0);
}

/* Kernel directories. */
static void
setup_kdir_big (const char *dir)
{
  g_autofree char *k = g_build_filename (dir, "k", NULL);
  char *big = g_malloc (5 * 1024 * 1024 + 1);

  g_mkdir (k, 0755);
  memset (big, ' ', 5 * 1024 * 1024);
  big[5 * 1024 * 1024] = '\0';
  put_text (k, "bhte.cl", big);
  g_free (big);
}

static void
setup_kdir_subdir (const char *dir)
{
  g_autofree char *k = g_build_filename (dir, "k", NULL);
  g_autofree char *sub = g_build_filename (k, "bhte.cl", NULL);
  g_mkdir (k, 0755);
  g_mkdir (sub, 0755);
}

static void
setup_kdir_binary (const char *dir)
{
  g_autofree char *k = g_build_filename (dir, "k", NULL);
  g_mkdir (k, 0755);
  put (k, "bhte.cl", "__kernel void\0\x01\x02", 16);
}

static void
setup_kdir_noentry (const char *dir)
{
  g_autofree char *k = g_build_filename (dir, "k", NULL);
  g_mkdir (k, 0755);
  put_text (k, "bhte.cl", "#include \"wb-common.h\"\n__kernel void not_bhte (__global float *x) { x[0] = 1.0f; }\n");
}

static void
setup_kdir_notdir (const char *dir)
{
  put_text (dir, "k", "a file, not a directory\n");
}

/* Presets. */
static void
setup_utf8 (const char *dir)
{
  put_text (dir, "p.json", "{ \"solver\": \"bhte\", \"title\": \"caf\xe9\" }");
}

static void
setup_huge_number (const char *dir)
{
  put_text (dir, "p.json", "{ \"solver\": \"bhte\", \"grid\": { \"shape\": [8, 8, 8], \"spacing\": 1e400 } }");
}

static void
setup_solver_type (const char *dir)
{
  put_text (dir, "p.json", "{ \"solver\": 3 }");
}

static void
setup_pstm (const char *dir)
{
  put_text (dir, "p.json", "{ \"solver\": \"pstm\", \"title\": \"a migration\" }");
}

static void
setup_too_big (const char *dir)
{
  gsize n = 17 * 1024 * 1024;
  char *text = g_malloc (n + 1);
  memset (text, ' ', n);
  text[0] = '{';
  text[n - 1] = '}';
  text[n] = '\0';
  put_text (dir, "p.json", text);
  g_free (text);
}

static void
setup_empty (const char *dir)
{
  put_text (dir, "p.json", "");
}

/* --- the catalogue ------------------------------------------------------- */

typedef struct
{
  const char *name;
  const char *args[16];
  void      (*setup) (const char *dir);
  const char *env;
  int         status;
  const char *message;
} ErrCase;

#define GAUSS "run", "bhte-gaussian", "--backend", "reference", "--steps", "2", "-q"
#define VALID "validate", "bhte-gaussian", "--set"

static const ErrCase cases[] = {
  /* preset documents */
  { "preset-utf8", { "validate", "p.json" }, setup_utf8, NULL, 2, "error: preset 'p' is not valid UTF-8 text" },
  { "preset-empty", { "validate", "p.json" }, setup_empty, NULL, 2, "error: preset 'p' is empty" },
  { "preset-too-big", { "validate", "p.json" }, setup_too_big, NULL, 2,
    "error: preset 'p' is 17825792 bytes; presets are limited to 16777216 bytes" },
  { "preset-huge-number", { "validate", "p.json" }, setup_huge_number, NULL, 2,
    "error: preset 'p': grid.spacing: the number is too large (beyond 1.79769e+308)" },
  { "preset-solver-type", { "validate", "p.json" }, setup_solver_type, NULL, 2,
    "error: preset 'p': solver: expected a string (one of bhte, vwe, pstm)" },
  { "preset-pstm-run", { "run", "p.json" }, setup_pstm, NULL, 2,
    "error: preset 'p': solver 'pstm' is a migration job, not a time-stepping simulation; run it with `wavebench-cli migrate`" },
  { "preset-display-field", { VALID, "display.field=Temp" }, NULL, NULL, 2,
    "error: display.field: 'Temp' is not one of T, dose, Q, material" },
  { "preset-initial-required", { VALID, "initial={\"width\": 0.003}" }, NULL, NULL, 2,
    "error: missing required key 'initial.amplitude'" },
  { "preset-background-labels", { VALID, "labels=\"l.npy\"", "--set", "background=\"brain\"" }, NULL, NULL, 2,
    "error: background and labels exclude each other" },
  { "preset-timeline-no-source", { VALID, "timeline=[{\"duration\": 1, \"on\": true}]" }, NULL, NULL, 2,
    "error: timeline: given without a source" },
  { "preset-vwe-unknown-key", { "validate", "vwe-point-source-2d", "--set", "grid.sise=3" }, NULL, NULL, 2,
    "error: unknown key 'grid.sise'" },
  /* the guard section */
  { "guard-not-object", { VALID, "guard=5" }, NULL, NULL, 2,
    "error: guard: expected an object, got an integer" },
  { "guard-every-range", { VALID, "guard={\"every\": -1}" }, NULL, NULL, 2,
    "error: guard.every = -1 is out of range [0, 1000000000]" },
  { "guard-unknown-key", { VALID, "guard={\"evry\": 5}" }, NULL, NULL, 2,
    "error: unknown key 'guard.evry' (known keys in guard: every, max_abs, fields)" },
  { "guard-max-abs", { VALID, "guard={\"max_abs\": 0}" }, NULL, NULL, 2,
    "error: guard.max_abs = 0 is out of range [1e-30, 3e+38]" },
  { "guard-fields-type", { VALID, "guard={\"fields\": [3]}" }, NULL, NULL, 2,
    "error: guard.fields[0]: expected a field name (a string)" },
  { "guard-fields-unknown", { GAUSS, "--set", "guard={\"fields\": [\"T\", \"Temp\"]}" }, NULL, NULL, 2,
    "error: guard.fields[1]: solver bhte has no field 'Temp' (fields: T, dose, Q, material)" },
  /* --set */
  { "set-empty-segment", { VALID, "grid..shape=[8,8,8]" }, NULL, NULL, 2,
    "error: bad key path 'grid..shape' (expected names separated by dots, with optional [index])" },
  { "set-bad-index", { VALID, "materials[x]=\"bone\"" }, NULL, NULL, 2, "error: bad key path 'materials[x]'" },
  { "set-past-end", { VALID, "materials[5]=\"bone\"" }, NULL, NULL, 2,
    "error: --set materials[5]: index 5 is past the end of 'materials' (1 elements)" },
  { "set-not-array", { VALID, "grid[0]=1" }, NULL, NULL, 2, "error: --set grid[0]: 'grid' is not an array" },
  { "set-inside-value", { VALID, "time.steps.x=1" }, NULL, NULL, 2,
    "error: --set time.steps.x: 'x' is inside something that is not an object" },
  { "set-no-parent", { VALID, "nosuch.key=1" }, NULL, NULL, 2,
    "error: --set nosuch.key: the preset has no 'nosuch' to set a value inside" },
  { "set-no-key", { VALID, "=5" }, NULL, NULL, 2, "error: --set '=5': expected KEY=VALUE, e.g. time.steps=500" },
  { "set-huge-number", { VALID, "time.dt=1e999" }, NULL, NULL, 2, "error: time.dt: the number is too large" },
  /* command-line arguments */
  { "no-command", { NULL }, NULL, NULL, 2, "Usage: wavebench-cli COMMAND [OPTIONS...]" },
  { "run-two-presets", { "run", "bhte-gaussian", "bhte-gaussian" }, NULL, NULL, 2,
    "error: run: expected exactly one PRESET (a bundled name or a .json file)" },
  { "steps-not-number", { "run", "bhte-gaussian", "--steps", "many" }, NULL, NULL, 2,
    "error: Cannot parse integer value" },
  { "npy-spec", { GAUSS, "--npy", "T:" }, NULL, NULL, 2, "error: --npy 'T:': expected FIELD:PATH, e.g. T:temperature.png" },
  { "npy-field", { GAUSS, "--npy", "Pressure:p.npy" }, NULL, NULL, 2,
    "error: --npy Pressure:p.npy: solver bhte has no field 'Pressure' (fields: T, dose, Q, material)" },
  { "slice-index", { GAUSS, "--slice", "z:-3" }, NULL, NULL, 2,
    "error: --slice 'z:-3': the index must be a non-negative integer" },
  { "validate-no-preset", { "validate" }, NULL, NULL, 2, "error: validate: expected exactly one PRESET" },
  { "bench-solver", { "bench", "lbm" }, NULL, NULL, 2, "error: bench: unknown solver 'lbm' (bhte, vwe, pstm, all or streams)" },
  { "bench-streams-count", { "bench", "streams", "--reads", "40", "--writes", "30" }, NULL, NULL, 2,
    "error: bench streams: --reads 40 --writes 30: expected 1 or more of each, at most 64 in all" },
  { "bench-dim", { "bench", "vwe", "--dim", "4" }, NULL, NULL, 2, "error: --dim 4: expected 2 or 3" },
  { "bench-grid", { "bench", "bhte", "--grid", "-8" }, NULL, NULL, 2,
    "error: bench: --grid, --steps and --readback must be positive" },
  { "output-dir-missing", { GAUSS, "--npy", "T:no/such/dir/t.npy" }, NULL, NULL, 1,
    "error: cannot create a temporary file beside 'no/such/dir/t.npy': No such file or directory" },
  { "csv-dir-missing", { GAUSS, "--csv", "no/such/dir/t.csv" }, NULL, NULL, 1,
    "error: cannot create a temporary file beside 'no/such/dir/t.csv': No such file or directory" },
  /* .npy files (a label map) */
  { "npy-magic", { "validate", "p.json" }, setup_npy_magic, NULL, 2,
    "error: labels: './labels.npy' is not a valid .npy file: missing the \\x93NUMPY magic" },
  { "npy-truncated", { "validate", "p.json" }, setup_npy_truncated, NULL, 2,
    "is truncated: the header promises 64 bytes of data, the file holds 10" },
  { "npy-shape", { "validate", "p.json" }, setup_npy_shape, NULL, 2,
    "error: labels: 'labels.npy' has shape (4, 4, 2) but grid.shape is (4, 4, 4)" },
  { "npy-label-value", { "validate", "p.json" }, setup_npy_value, NULL, 2,
    "error: labels: value 7 at cell (1, 2, 3) of 'labels.npy' is not a material index (0 to 1)" },
  { "npy-label-fraction", { "validate", "p.json" }, setup_npy_fraction, NULL, 2,
    "error: labels: value 0.5 at cell (1, 1, 0) of 'labels.npy' is not a material index (0 to 1)" },
  { "npy-dtype", { "validate", "p.json" }, setup_npy_dtype, NULL, 2,
    "unsupported or missing dtype (supported: float32, float64, int8..int64, uint8..uint64, bool)" },
  { "npy-header", { "validate", "p.json" }, setup_npy_header, NULL, 2, "is not a valid .npy file" },
  { "npy-version", { "validate", "p.json" }, setup_npy_version, NULL, 2,
    "is not a valid .npy file: unsupported format version 9" },
  { "npy-dims", { "validate", "p.json" }, setup_npy_dims, NULL, 2,
    "arrays of more than 3 dimensions are not supported" },
  /* SEG-Y files (migrate) */
  { "segy-missing", { "migrate", "nothing.sgy", "-v", "2000", "-o", "out.sgy" }, NULL, NULL, 2,
    "nothing.sgy: No such file or directory" },
  { "segy-short", { "migrate", "in.sgy", "-v", "2000", "-o", "out.sgy" }, setup_segy_short, NULL, 2,
    "in.sgy: truncated: 1872 bytes, but a SEG-Y file needs at least 3600 (text and binary headers)" },
  { "segy-format", { "migrate", "in.sgy", "-v", "2000", "-o", "out.sgy" }, setup_segy_format, NULL, 2,
    "in.sgy: unknown sample format code 7 at byte 3225 of the binary header" },
  { "segy-ragged", { "migrate", "in.sgy", "-v", "2000", "-o", "out.sgy" }, setup_segy_ragged, NULL, 2,
    "in.sgy: truncated or inconsistent: 811 bytes after the headers are 2 whole traces of 272 bytes" },
  { "segy-samples", { "migrate", "in.sgy", "-v", "2000", "-o", "out.sgy" }, setup_segy_samples, NULL, 2,
    "in.sgy: no sample count: byte 3221 of the binary header and byte 115 of the first trace header are both zero" },
  { "segy-interval", { "migrate", "in.sgy", "-v", "2000", "-o", "out.sgy" }, setup_segy_interval, NULL, 2,
    "in.sgy: no sample interval: byte 3217 of the binary header and byte 117 of the first trace header are both zero" },
  { "segy-no-traces", { "migrate", "in.sgy", "-v", "2000", "-o", "out.sgy" }, setup_segy_empty, NULL, 2,
    "in.sgy: no traces after the headers" },
  { "segy-trace-samples", { "migrate", "in.sgy", "-v", "2000", "-o", "out.sgy" }, setup_segy_trace_ns, NULL, 2,
    "in.sgy: inconsistent sample counts: trace 1 says 9 samples (byte 115) but the file has 8 per trace (binary header byte 3221)" },
  { "segy-no-coordinates", { "migrate", "in.sgy", "-v", "2000", "-o", "out.sgy" }, setup_segy_coords, NULL, 2,
    "in.sgy: missing coordinates: source x/y (bytes 73/77) and receiver x/y (bytes 81/85) are zero in every trace" },
  /* kernel directories */
  { "kernels-not-dir", { GAUSS, "--kernels", "k" }, setup_kdir_notdir, NULL, 2,
    "error: kernel directory 'k' does not exist or is not a directory" },
  { "kernels-too-big", { GAUSS, "--kernels", "k" }, setup_kdir_big, NULL, 2,
    "error: kernel file 'k/bhte.cl' is 5242880 bytes; kernel files are limited to 4194304 bytes" },
  { "kernels-subdir", { GAUSS, "--kernels", "k" }, setup_kdir_subdir, NULL, 2,
    "error: kernel directory 'k': 'bhte.cl' is not a regular file" },
  { "kernels-binary", { "run", "bhte-gaussian", "--backend", "opencl:0:0", "--steps", "2", "-q", "--kernels", "k" },
    setup_kdir_binary, NULL, 2, "error: kernel file 'k/bhte.cl' is not a text file of at most 4194304 bytes" },
  { "kernels-no-entry", { "run", "bhte-gaussian", "--backend", "opencl:0:0", "--steps", "2", "-q", "--kernels", "k" },
    setup_kdir_noentry, NULL, 1, "error: clCreateKernel 'bhte_step': CL_INVALID_KERNEL_NAME" },
  /* run-time faults */
  { "fault-out-of-resources", { "run", "bhte-gaussian", "--backend", "opencl:0:0", "--steps", "20", "-q" }, NULL,
    "WAVEBENCH_FAULT_ENQUEUE=5", 1,
    "at step 3: the device ran out of memory or resources during the run: launching kernel bhte_step: CL_OUT_OF_RESOURCES. "
    "The run stopped; try a smaller grid, another backend (--backend) or --fallback-reference" },
  { "fault-allocation", { "run", "bhte-gaussian", "--backend", "opencl:0:0", "--steps", "20", "-q" }, NULL,
    "WAVEBENCH_FAULT_ENQUEUE=1:CL_MEM_OBJECT_ALLOCATION_FAILURE", 1,
    "at step 0: the device ran out of memory or resources during the run: launching kernel wb_guard_scan: CL_MEM_OBJECT_ALLOCATION_FAILURE" },
  { "fault-device-lost", { "run", "bhte-gaussian", "--backend", "opencl:0:0", "--steps", "20", "-q" }, NULL,
    "WAVEBENCH_FAULT_ENQUEUE=4:CL_DEVICE_NOT_AVAILABLE", 1,
    "the device was lost during the run (a driver reset or a watchdog): launching kernel bhte_step: CL_DEVICE_NOT_AVAILABLE" },
  { "diverged", { GAUSS, "--set", "guard={\"every\": 1, \"max_abs\": 44.8}" }, NULL, NULL, 1,
    "error: the run diverged at step 0 (t = 0 s): field T, first bad cell (" },
  { "full-disk", { GAUSS, "--npy", "T:t.npy" }, NULL, "WAVEBENCH_IO_FAIL_AFTER=100", 1,
    "error: cannot write 't.npy': No space left on device" },
};

static gboolean
case_needs_opencl (const ErrCase *c)
{
  for (guint i = 0; c->args[i]; i++)
    if (g_str_equal (c->args[i], "opencl:0:0"))
      return TRUE;
  return FALSE;
}

static gboolean
have_opencl (void)
{
  static int have = -1;
  if (have < 0)
    {
      const char *args[] = { "devices", NULL };
      Result r = cli_in (g_get_tmp_dir (), args, NULL);
      have = strstr (r.out, "opencl:0:0") != NULL;
      result_clear (&r);
    }
  return have;
}

static void
test_case (gconstpointer data)
{
  const ErrCase *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("wb-errors-XXXXXX", &error);
  Result r;

  g_assert_no_error (error);
  /* One case failing must not hide the others' results. */
  g_test_set_nonfatal_assertions ();
  if (case_needs_opencl (c) && !have_opencl ())
    {
      g_test_skip ("no OpenCL device");
      remove_tree (dir);
      return;
    }
  if (c->setup)
    c->setup (dir);
  r = cli_in (dir, c->args, c->env);
  if (strstr (r.err, c->message) == NULL || r.status != c->status)
    g_test_message ("%s: exit %d, stderr:\n%s", c->name, r.status, r.err);
  g_assert_nonnull (strstr (r.err, c->message));
  g_assert_cmpint (r.status, ==, c->status);
  /* Nothing half-written is left behind: no temporary files. */
  {
    g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d)) != NULL)
      g_assert_false (name[0] == '.' && strchr (name, 'X') == NULL && g_str_has_suffix (name, ".npy"));
  }
  result_clear (&r);
  remove_tree (dir);
}

/* --- run-time behaviour beyond the message -------------------------------- */

/* A blow-up writes the requested outputs from the last good state. */
static void
test_diverged_outputs (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("wb-errors-XXXXXX", &error);
  g_autofree char *npy = g_build_filename (dir, "T.npy", NULL);
  g_autoptr(WbNpyArray) a = NULL;
  const char *args[] = { "run", "bhte-uniform-source", "--backend", "reference", "--steps", "400",
                         "--set", "guard={\"every\": 20, \"max_abs\": 40}", "--npy", "T:T.npy", NULL };
  Result r = cli_in (dir, args, NULL);
  double max = 0;

  g_assert_cmpint (r.status, ==, 1);
  /* The uniform source heats 37 -> 42 C (test-guard finds the step). */
  g_assert_nonnull (strstr (r.err, "error: the run diverged at step "));
  g_assert_nonnull (strstr (r.err, "field T, first bad cell ("));
  g_assert_nonnull (strstr (r.err, "wrote T.npy (T, the last good state)"));
  a = wb_npy_read (npy, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < a->shape[0] * a->shape[1] * a->shape[2]; i++)
    max = MAX (max, a->data[i]);
  /* The last good state is under the threshold, and heated. */
  g_assert_cmpfloat (max, <=, 40.0);
  g_assert_cmpfloat (max, >, 39.0);
  result_clear (&r);
  remove_tree (dir);
}

/* A failing device with --fallback-reference: the run completes on the
 * reference backend and its result equals a plain reference run. */
static void
test_fallback (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("wb-errors-XXXXXX", &error);
  const char *args[] = { "run", "bhte-gaussian", "--backend", "opencl:0:0", "--steps", "10",
                         "--fallback-reference", "--npy", "T:a.npy", NULL };
  const char *plain[] = { "run", "bhte-gaussian", "--backend", "reference", "--steps", "10",
                          "--npy", "T:b.npy", "-q", NULL };
  g_autofree char *pa = g_build_filename (dir, "a.npy", NULL);
  g_autofree char *pb = g_build_filename (dir, "b.npy", NULL);
  g_autofree char *ca = NULL, *cb = NULL;
  gsize la = 0, lb = 0;
  Result r;

  if (!have_opencl ())
    {
      g_test_skip ("no OpenCL device");
      remove_tree (dir);
      return;
    }
  r = cli_in (dir, args, "WAVEBENCH_FAULT_ENQUEUE=6:CL_DEVICE_NOT_AVAILABLE");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "the device was lost during the run"));
  g_assert_nonnull (strstr (r.err, "--fallback-reference: running again on the reference backend"));
  result_clear (&r);
  r = cli_in (dir, plain, NULL);
  g_assert_cmpint (r.status, ==, 0);
  result_clear (&r);
  g_assert_true (g_file_get_contents (pa, &ca, &la, NULL));
  g_assert_true (g_file_get_contents (pb, &cb, &lb, NULL));
  /* Bit for bit: both are the reference backend from step 0. */
  g_assert_cmpmem (ca, la, cb, lb);
  remove_tree (dir);
}

/* A full disk in the middle of writing any of our files leaves the previous
 * file as it was and no temporary file behind. */
static void
check_survives (const char *dir,
                const char *file,
                const char * const *args)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autofree char *before = NULL, *after = NULL;
  gsize lb = 0, la = 0;
  Result r;

  g_assert_true (g_file_get_contents (path, &before, &lb, NULL));
  /* Fail after 0 bytes, inside the header, and in the middle. */
  for (guint f = 0; f < 3; f++)
    {
      gsize n = f == 0 ? 0 : f == 1 ? 20 : lb / 2;
      g_autofree char *env = g_strdup_printf ("WAVEBENCH_IO_FAIL_AFTER=%" G_GSIZE_FORMAT, n);
      g_autoptr(GDir) d = NULL;
      const char *name;

      r = cli_in (dir, args, env);
      g_assert_cmpint (r.status, ==, 1);
      g_assert_nonnull (strstr (r.err, "No space left on device"));
      result_clear (&r);
      g_assert_true (g_file_get_contents (path, &after, &la, NULL));
      g_assert_cmpmem (before, lb, after, la);
      g_clear_pointer (&after, g_free);
      d = g_dir_open (dir, 0, NULL);
      while ((name = g_dir_read_name (d)) != NULL)
        g_assert_false (name[0] == '.');
    }
}

static void
test_full_disk (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("wb-errors-XXXXXX", &error);
  /* The previous files come from a shorter run, so they differ from what
   * the failed runs would have written. */
  const char *first[] = { "run", "bhte-focused-ultrasound", "--backend", "reference", "--steps", "1",
                          "--set", "grid.shape=[16,16,16]", "--png", "T:t.png", "--npy", "T:t.npy",
                          "--csv", "t.csv", "-q", NULL };
  const char *png[] = { "run", "bhte-focused-ultrasound", "--backend", "reference", "--steps", "3",
                        "--set", "grid.shape=[16,16,16]", "--png", "T:t.png", "-q", NULL };
  const char *npy[] = { "run", "bhte-focused-ultrasound", "--backend", "reference", "--steps", "3",
                        "--set", "grid.shape=[16,16,16]", "--npy", "T:t.npy", "-q", NULL };
  /* Sensor traces (vwe has sensors) and SEG-Y (synth writes through the
   * same atomic file as migrate's image). */
  const char *csv_first[] = { "run", "vwe-point-source-2d", "--backend", "reference", "--steps", "5",
                              "--set", "grid.shape=[64,64]", "--csv", "s.csv", "-q", NULL };
  const char *csv[] = { "run", "vwe-point-source-2d", "--backend", "reference", "--steps", "9",
                        "--set", "grid.shape=[64,64]", "--csv", "s.csv", "-q", NULL };
  const char *segy_first[] = { "synth", "-o", "s.sgy", "--midpoints", "0,0,25,25,5,5", "-n", "50", NULL };
  const char *segy[] = { "synth", "-o", "s.sgy", "--midpoints", "0,0,25,25,5,5", "-n", "60", NULL };
  Result r = cli_in (dir, first, NULL);

  g_assert_cmpint (r.status, ==, 0);
  result_clear (&r);
  r = cli_in (dir, csv_first, NULL);
  g_assert_cmpint (r.status, ==, 0);
  result_clear (&r);
  r = cli_in (dir, segy_first, NULL);
  g_assert_cmpint (r.status, ==, 0);
  result_clear (&r);
  check_survives (dir, "t.png", png);
  check_survives (dir, "t.npy", npy);
  check_survives (dir, "s.csv", csv);
  check_survives (dir, "s.sgy", segy);
  remove_tree (dir);
}

/* The same through the engine for what the CLI does not write: presets
 * (saved by the app) and CSV traces. */
static void
test_full_disk_engine (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("wb-errors-XXXXXX", &error);
  g_autofree char *preset_path = g_build_filename (dir, "p.json", NULL);
  g_autofree char *csv_path = g_build_filename (dir, "t.csv", NULL);
  g_autoptr(WbPreset) p = wb_preset_load ("bhte-gaussian", &error);
  g_autofree char *after = NULL;
  gsize la = 0;
  const char *csv = "time_s,sensor 1 T [degC]\n0,37\n0.1,37.5\n";

  g_assert_no_error (error);
  g_assert_true (wb_preset_save (p, preset_path, &error));
  g_assert_true (wb_file_write_atomic (csv_path, csv, strlen (csv), &error));
  g_assert_no_error (error);
  g_assert_true (wb_preset_set (p, "time.steps=12345", &error));

  g_setenv ("WAVEBENCH_IO_FAIL_AFTER", "64", TRUE);
  g_assert_false (wb_preset_save (p, preset_path, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "No space left on device"));
  g_clear_error (&error);
  g_setenv ("WAVEBENCH_IO_FAIL_AFTER", "3", TRUE);
  g_assert_false (wb_file_write_atomic (csv_path, "time_s,new\n", 11, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_IO);
  g_clear_error (&error);
  g_unsetenv ("WAVEBENCH_IO_FAIL_AFTER");

  g_assert_true (g_file_get_contents (csv_path, &after, &la, NULL));
  g_assert_cmpstr (after, ==, csv);
  g_clear_pointer (&after, g_free);
  {
    g_autoptr(WbPreset) again = wb_preset_load (preset_path, &error);
    g_assert_no_error (error);
    /* The preset on disk is the one saved before the failure. */
    g_assert_cmpint (json_node_get_int (wb_preset_lookup (again, "time.steps")), ==, 200);
  }
  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/wavebench/errors/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/wavebench/errors/diverged-outputs", test_diverged_outputs);
  g_test_add_func ("/wavebench/errors/fallback-reference", test_fallback);
  g_test_add_func ("/wavebench/errors/full-disk-outputs", test_full_disk);
  g_test_add_func ("/wavebench/errors/full-disk-engine", test_full_disk_engine);
  return g_test_run ();
}
