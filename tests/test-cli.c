/* wavebench-cli end to end: runs that write real files, JSON output, the
 * no-OpenCL fallback, and a table of bad inputs, each with its exit code
 * and the message the user sees. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "wb-npy.h"
#include "wb-render.h"

static char *tmpdir;

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

/* Runs the CLI with @args (NULL-terminated); @envp_extra like "K=V" or NULL. */
static Result
cli (const char * const *args,
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
  if (env_extra)
    {
      g_auto(GStrv) kv = g_strsplit (env_extra, "=", 2);
      envp = g_environ_setenv (envp, kv[0], kv[1], TRUE);
    }
  g_assert_true (g_spawn_sync (tmpdir, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                               &r.out, &r.err, &wait_status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  r.status = WEXITSTATUS (wait_status);
  return r;
}

static char *
write_tmp (const char *name,
           const char *contents)
{
  char *path = g_build_filename (tmpdir, name, NULL);
  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

static void
test_run_outputs (void)
{
  const char *args[] = { "run", "bhte-gaussian", "--backend", "reference", "--steps", "20",
                         "--png", "T:t.png", "--npy", "T:t.npy", "--slice", "z", "--quiet", NULL };
  Result r = cli (args, NULL);
  g_autofree char *png = g_build_filename (tmpdir, "t.png", NULL);
  g_autofree char *npy = g_build_filename (tmpdir, "t.npy", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WbImage) img = NULL;
  g_autoptr(WbNpyArray) arr = NULL;
  double peak = 0;

  g_assert_cmpint (r.status, ==, 0);
  img = wb_png_read (png, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (img->width, >, 48);
  arr = wb_npy_read (npy, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (arr->ndim, ==, 3);
  g_assert_cmpuint (arr->shape[0], ==, 48);
  g_assert_cmpuint (arr->shape[2], ==, 48);
  for (gsize n = 0; n < 48 * 48 * 48; n++)
    peak = MAX (peak, arr->data[n]);
  /* 37 degC plus an 8 K Gaussian that has spread and decayed a little in 2 s. */
  g_assert_cmpfloat (peak, >, 40.0);
  g_assert_cmpfloat (peak, <, 45.0);
  result_clear (&r);
}

static void
test_run_json (void)
{
  const char *args[] = { "run", "bhte-gaussian", "--backend", "reference", "--steps", "5",
                         "--set", "grid.shape=[16,16,16]", "--json", NULL };
  Result r = cli (args, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *o;

  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (json_parser_load_from_data (parser, r.out, -1, &error));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "solver"), ==, "bhte");
  g_assert_cmpstr (json_object_get_string_member (o, "backend"), ==, "reference");
  g_assert_cmpint (json_object_get_int_member (o, "steps"), ==, 5);
  /* time = steps * dt of the preset (0.1 s). */
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "time"), 0.5, 1e-12);
  g_assert_true (json_object_has_member (json_object_get_object_member (o, "fields"), "T"));
  result_clear (&r);
}

static void
test_no_opencl (void)
{
  const char *args[] = { "run", "bhte-gaussian", "--steps", "2", "--set", "grid.shape=[8,8,8]", NULL };
  Result r = cli (args, "WAVEBENCH_NO_OPENCL=1");

  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "wavebench-cli: no OpenCL platform found (install an OpenCL driver, e.g. pocl-opencl-icd); running on the reference backend\n"));
  g_assert_nonnull (strstr (r.err, "auto chose the reference backend"));
  result_clear (&r);
}

static void
test_devices_json (void)
{
  const char *args[] = { "devices", "--json", NULL };
  Result r = cli (args, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *devs;
  JsonObject *last;

  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (json_parser_load_from_data (parser, r.out, -1, NULL));
  devs = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "devices");
  last = json_array_get_object_element (devs, json_array_get_length (devs) - 1);
  g_assert_cmpstr (json_object_get_string_member (last, "id"), ==, "reference");
  for (guint i = 0; i < json_array_get_length (devs); i++)
    {
      JsonObject *d = json_array_get_object_element (devs, i);
      g_assert_true (json_object_has_member (d, "cl_khr_gl_sharing"));
      g_assert_true (json_object_has_member (d, "cl_khr_external_memory_opaque_fd"));
      g_assert_true (json_object_has_member (d, "max_allocation"));
      g_assert_true (json_object_has_member (d, "driver_version"));
    }
  result_clear (&r);
}

static gboolean have_opencl (void);

static void
test_broken_kernel (void)
{
  g_autofree char *dir = g_build_filename (tmpdir, "kern", NULL);
  g_autofree char *file = g_build_filename (dir, "bhte.cl", NULL);
  const char *args[] = { "run", "bhte-gaussian", "--backend", "opencl:0:0", "--steps", "1",
                         "--kernels", "kern", "--quiet", NULL };
  Result r;

  if (!have_opencl ())
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  g_mkdir_with_parents (dir, 0755);
  g_assert_true (g_file_set_contents (file, "#include \"wb-common.h\"\n\n__kernel void bhte_step (void)\n{\n  int x = ;\n}\n", -1, NULL));
  r = cli (args, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "building kernel bhte.cl (from kern/bhte.cl) failed: CL_BUILD_PROGRAM_FAILURE"));
  g_assert_nonnull (strstr (r.err, "bhte.cl:5:"));
  result_clear (&r);
}

static gboolean
have_opencl (void)
{
  const char *dargs[] = { "devices", NULL };
  Result d = cli (dargs, NULL);
  gboolean have = strstr (d.out, "opencl:0:0") != NULL;
  result_clear (&d);
  return have;
}

typedef struct
{
  const char *name;
  const char *args[16];
  const char *file;       /* preset written to bad.json when set */
  int         status;
  const char *message;    /* expected on stderr */
} BadCase;

#define GAUSS "run", "bhte-gaussian", "--backend", "reference", "--steps", "1"

static const BadCase bad_cases[] = {
  { "unknown command", { "frobnicate", NULL }, NULL, 2, "error: unknown command 'frobnicate'" },
  { "no preset", { "run", NULL }, NULL, 2, "error: run: expected exactly one PRESET" },
  { "unknown preset", { "run", "no-such-preset", NULL }, NULL, 2,
    "error: no preset file or bundled preset named 'no-such-preset' (bundled: " },
  { "missing preset file", { "run", "missing.json", NULL }, NULL, 2, "error: cannot read preset: " },
  { "bad option", { "run", "bhte-gaussian", "--stepz", "3", NULL }, NULL, 2, "error: Unknown option --stepz" },
  { "png spec", { GAUSS, "--png", "T", NULL }, NULL, 2, "error: --png 'T': expected FIELD:PATH, e.g. T:temperature.png" },
  { "png field", { GAUSS, "--png", "Sigma_xy:x.png", NULL }, NULL, 2,
    "error: --png Sigma_xy:x.png: solver bhte has no field 'Sigma_xy' (fields: T, dose" },
  { "slice", { GAUSS, "--slice", "w:3", NULL }, NULL, 2,
    "error: --slice 'w:3': expected AXIS or AXIS:INDEX with AXIS x, y or z" },
  { "colormap", { GAUSS, "--colormap", "jet", NULL }, NULL, 2,
    "error: --colormap 'jet': expected viridis, hot, diverging or gray" },
  { "backend", { "run", "bhte-gaussian", "--backend", "cuda:0", NULL }, NULL, 2, "error: unknown backend 'cuda:0' (available: " },
  { "kernel dir", { GAUSS, "--kernels", "/no/such/dir", NULL }, NULL, 2,
    "error: kernel directory '/no/such/dir' does not exist or is not a directory" },
  { "set syntax", { GAUSS, "--set", "time.steps", NULL }, NULL, 2,
    "error: --set 'time.steps': expected KEY=VALUE, e.g. time.steps=500" },
  { "syntax error", { "validate", "bad.json", NULL }, "{\n  \"solver\": \"bhte\",\n  \"grid\": {\"shape\": [8, 8, 8],, }\n}\n", 2,
    "error: preset 'bad': JSON syntax error at line 3, column " },
  { "not an object", { "validate", "bad.json", NULL }, "[\"bhte\"]", 2, "error: preset 'bad': the document must be a JSON object" },
  { "no solver", { "validate", "bad.json", NULL }, "{\"grid\": {}}", 2,
    "error: preset 'bad': missing required key 'solver' (one of bhte, vwe, pstm)" },
  { "unknown solver", { "validate", "bad.json", NULL }, "{\"solver\": \"lbm\"}", 2,
    "error: preset 'bad': unknown solver 'lbm' (one of bhte, vwe, pstm)" },
  { "unknown key", { "validate", "bhte-gaussian", "--set", "grid.sapcing=0.001", NULL }, NULL, 2,
    "error: unknown key 'grid.sapcing' (known keys in grid: shape, spacing" },
  { "unknown top key", { "validate", "bhte-gaussian", "--set", "colour=red", NULL }, NULL, 2,
    "error: unknown key 'colour' (known keys: " },
  { "wrong type", { "validate", "bhte-gaussian", "--set", "grid.spacing=\"fine\"", NULL }, NULL, 2,
    "error: grid.spacing: expected a number, got a string" },
  { "negative size", { "validate", "bhte-gaussian", "--set", "grid.shape=[48,-4,48]", NULL }, NULL, 2,
    "error: grid.shape[1] = -4 is out of range [3, " },
  { "absurd size", { "validate", "bhte-gaussian", "--set", "grid.shape=[48,48,10000000]", NULL }, NULL, 2,
    "error: grid.shape[2] = 10000000 is out of range [3, " },
  { "shape arity", { "validate", "bhte-gaussian", "--set", "grid.shape=[48,48]", NULL }, NULL, 2,
    "error: grid.shape: expected 3 numbers, got 2" },
  { "unstable dt", { "validate", "bhte-gaussian", "--set", "time.dt=2", NULL }, NULL, 2,
    "error: time.dt = 2 s is unstable for material 'brain' at h = 0.0005 m: k dt/(rho c h^2) = " },
  { "negative steps", { "validate", "bhte-gaussian", "--set", "time.steps=-5", NULL }, NULL, 2,
    "error: time.steps = -5 is out of range [0, " },
  { "unknown material", { "validate", "bhte-gaussian", "--set", "materials=[\"unobtainium\"]", NULL }, NULL, 2,
    "error: materials[0]: 'unobtainium' has no default properties (defaults exist for water, skin, cortical_bone, trabecular_bone, brain)" },
  { "duty cycle", { "validate", "bhte-focused-ultrasound", "--set", "timeline[0].duty_cycle=1.5", NULL }, NULL, 2,
    "error: timeline[0].duty_cycle = 1.5 is out of range [0, 1]" },
  { "source arity", { "validate", "bhte-focused-ultrasound", "--set", "source.centre=[0.01,0.01]", NULL }, NULL, 2,
    "error: source.centre: expected 3 numbers, got 2" },
  { "missing labels", { "validate", "bhte-gaussian", "--set", "labels=\"nolabels.npy\"", NULL }, NULL, 2,
    "error: labels: cannot read 'nolabels.npy': no such file" },
  { "too large for memory", { "run", "bhte-gaussian", "--backend", "reference", "--set", "grid.shape=[4096,4096,4096]", NULL }, NULL, 2,
    "error: grid.shape [4096, 4096, 4096] (68719476736 cells) needs " },
};

static void
test_bad_inputs (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      const BadCase *c = &bad_cases[i];
      g_autofree char *file = NULL;
      Result r;

      if (c->file)
        file = write_tmp ("bad.json", c->file);
      r = cli (c->args, NULL);
      g_test_message ("%s -> %d: %s", c->name, r.status, r.err);
      if (r.status != c->status || strstr (r.err, c->message) == NULL)
        g_error ("bad input '%s': expected exit %d and a message containing \"%s\"; got exit %d and:\n%s",
                 c->name, c->status, c->message, r.status, r.err);
      /* Bad input never crashes and never prints a GLib critical. */
      g_assert_null (strstr (r.err, "CRITICAL"));
      result_clear (&r);
    }
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("wb-cli-XXXXXX", NULL);
  g_test_add_func ("/wavebench/cli/run-outputs", test_run_outputs);
  g_test_add_func ("/wavebench/cli/run-json", test_run_json);
  g_test_add_func ("/wavebench/cli/no-opencl", test_no_opencl);
  g_test_add_func ("/wavebench/cli/devices-json", test_devices_json);
  g_test_add_func ("/wavebench/cli/broken-kernel", test_broken_kernel);
  g_test_add_func ("/wavebench/cli/bad-inputs", test_bad_inputs);
  rc = g_test_run ();
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
    g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
  }
  return rc;
}
