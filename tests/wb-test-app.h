/* wb-test-app.h: running the app (or the CLI) the way the GUI tests do:
 * scripted, with its output captured, in an environment that touches
 * neither the user's settings nor the session. */
#pragma once

#include <gtk/gtk.h>
#include <sys/wait.h>

typedef struct
{
  int   status;  /* exit status; -1 when killed */
  char *out;
  char *err;
} AppRun;

static inline void
app_run_clear (AppRun *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AppRun, app_run_clear)

/* Runs @program with @args (NULL-terminated) and waits for it: settings in
 * memory, no accessibility bus or D-Bus session, messages in English (C.UTF-8,
 * no LANGUAGE), no display-path override from the caller's environment, then
 * @extra_env ("NAME=VALUE", NULL-terminated, may be NULL) on top. */
static inline void
wb_test_run (AppRun             *run,
             const char         *program,
             const char * const *args,
             const char * const *extra_env)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) env = g_get_environ ();
  int wait_status = 0;

  g_ptr_array_add (argv, (char *) program);
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  env = g_environ_setenv (env, "GSETTINGS_BACKEND", "memory", TRUE);
  env = g_environ_setenv (env, "GTK_A11Y", "none", TRUE);
  env = g_environ_setenv (env, "NO_AT_BRIDGE", "1", TRUE);
  env = g_environ_setenv (env, "DBUS_SESSION_BUS_ADDRESS", "disabled:", TRUE);
  env = g_environ_setenv (env, "LC_ALL", "C.UTF-8", TRUE);
  env = g_environ_unsetenv (env, "LANGUAGE");
  env = g_environ_unsetenv (env, "WAVEBENCH_DISPLAY_PATH");
  env = g_environ_unsetenv (env, "WAVEBENCH_INTEROP_SYNC");
  for (guint i = 0; extra_env && extra_env[i]; i++)
    {
      g_auto(GStrv) kv = g_strsplit (extra_env[i], "=", 2);
      env = g_environ_setenv (env, kv[0], kv[1], TRUE);
    }

  g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                &run->out, &run->err, &wait_status, &error);
  g_assert_no_error (error);
  run->status = g_spawn_check_wait_status (wait_status, NULL) ? 0
              : WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  if (run->status != 0 || g_test_verbose ())
    g_test_message ("%s %s:\n%s\n%s", program, args[0] ? args[0] : "", run->out, run->err);
}

/* The app under test ($WAVEBENCH_APP, else the build's) and a new
 * temporary folder from @tmp_template.  Where no display can be opened or
 * the app is not built, prints the TAP skip line and returns NULL: the
 * test exits 77 (skipped, not failed; xvfb-run gives a display in CI). */
static inline char *
wb_test_gui_app (const char *tmp_template,
                 char      **tmp)
{
  g_autofree char *app = g_strdup (g_getenv ("WAVEBENCH_APP"));

  if (app == NULL)
    app = g_build_filename (WB_BUILD_DIR, "src", "app", "wavebench", NULL);
  if ((g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL) || !gtk_init_check ())
    {
      g_print ("1..0 # SKIP no display could be opened (run under xvfb-run)\n");
      return NULL;
    }
  if (!g_file_test (app, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_print ("1..0 # SKIP %s not built\n", app);
      return NULL;
    }
  *tmp = g_dir_make_tmp (tmp_template, NULL);
  return g_steal_pointer (&app);
}
