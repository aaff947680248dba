#define G_LOG_DOMAIN "wb-tune"
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wb-error.h"
#include "wb-io.h"
#include "wb-tune.h"

/* Results of this process, for wb_tune_report. */
static GMutex   report_lock;
static GString *report_text;

WbTunePolicy
wb_tune_policy (void)
{
  const char *env = g_getenv ("WAVEBENCH_TUNE");

  if (env == NULL || *env == '\0' || g_str_equal (env, "auto"))
    return WB_TUNE_AUTO;
  if (g_str_equal (env, "off"))
    return WB_TUNE_OFF;
  if (g_str_equal (env, "force"))
    return WB_TUNE_FORCE;
  g_warning ("WAVEBENCH_TUNE='%s' is not one of auto, off, force: using auto", env);
  return WB_TUNE_AUTO;
}

char *
wb_tune_cache_path (void)
{
  const char *dir = g_getenv ("WAVEBENCH_CACHE_DIR");

  if (dir != NULL && *dir != '\0')
    return g_build_filename (dir, "tuning.ini", NULL);
  return g_build_filename (g_get_user_cache_dir (), "wavebench", "tuning.ini", NULL);
}

double
wb_tune_median (double *values,
                guint   n)
{
  /* Insertion sort: n is a handful of timings. */
  for (guint i = 1; i < n; i++)
    for (guint j = i; j > 0 && values[j - 1] > values[j]; j--)
      {
        double t = values[j];
        values[j] = values[j - 1];
        values[j - 1] = t;
      }
  if (n == 0)
    return 0.0;
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

gboolean
wb_tune_choice_parse (const char   *text,
                      WbTuneChoice *choice,
                      GError      **error)
{
  g_auto(GStrv) parts = g_strsplit (text, ":", -1);
  guint n = g_strv_length (parts);

  memset (choice, 0, sizeof *choice);
  if (n == 0)
    return TRUE;
  if (n > 3 || strlen (parts[0]) >= sizeof choice->variant)
    goto bad;
  g_strlcpy (choice->variant, parts[0], sizeof choice->variant);
  if (n >= 2 && *parts[1] != '\0')
    {
      g_auto(GStrv) dims = g_strsplit (parts[1], "x", -1);
      guint nd = g_strv_length (dims);

      if (nd < 1 || nd > 3)
        goto bad;
      for (guint d = 0; d < nd; d++)
        {
          guint64 v;

          if (!g_ascii_string_to_unsigned (dims[d], 10, 0, 65536, &v, NULL))
            goto bad;
          choice->local[d] = v;
        }
      /* All zero: the implementation's choice; else every size >= 1, and
       * the sizes not given are 1. */
      if (choice->local[0] != 0 || choice->local[1] != 0 || choice->local[2] != 0)
        for (guint d = 0; d < 3; d++)
          {
            if (d >= nd)
              choice->local[d] = 1;
            else if (choice->local[d] == 0)
              goto bad;
          }
    }
  if (n == 3 && *parts[2] != '\0')
    {
      guint64 v;

      if (!g_ascii_string_to_unsigned (parts[2], 10, 0, G_MAXUINT, &v, NULL))
        goto bad;
      choice->param = (guint) v;
    }
  return TRUE;

bad:
  g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
               "tuning choice '%s': expected VARIANT[:LXxLYxLZ[:PARAM]] like zmarch:32x8x1:64",
               text);
  return FALSE;
}

char *
wb_tune_choice_format (const WbTuneChoice *choice)
{
  return g_strdup_printf ("%s:%" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT ":%u",
                          choice->variant, choice->local[0], choice->local[1],
                          choice->local[2], choice->param);
}

/* One group per device: what it is and which driver runs it, since a
 * driver update can change the best choice. */
static char *
device_group (const WbDevice *device)
{
  g_autofree char *raw = g_strdup_printf ("%s | %s | %s", device->name, device->driver_version,
                                          device->platform_name ? device->platform_name : "");

  /* Key-file group names may not hold '[', ']' or control characters. */
  for (char *p = raw; *p; p++)
    if (*p == '[' || *p == ']' || (guchar) *p < 0x20)
      *p = '_';
  return g_steal_pointer (&raw);
}

static gboolean
same_choice (const WbTuneChoice *a,
             const WbTuneChoice *b)
{
  return g_str_equal (a->variant, b->variant) && a->param == b->param
         && memcmp (a->local, b->local, sizeof a->local) == 0;
}

/* The pinned choice for @key from WAVEBENCH_TUNE_PIN, if any. */
static gboolean
pinned (const char   *key,
        WbTuneChoice *choice,
        GError      **error)
{
  const char *env = g_getenv ("WAVEBENCH_TUNE_PIN");
  g_auto(GStrv) items = NULL;

  if (env == NULL || *env == '\0')
    return FALSE;
  items = g_strsplit (env, ";", -1);
  for (guint i = 0; items[i]; i++)
    {
      const char *eq = strchr (items[i], '=');
      g_autofree char *prefix = NULL;

      if (eq == NULL)
        continue;
      prefix = g_strndup (items[i], eq - items[i]);
      if (g_str_has_prefix (key, prefix))
        return wb_tune_choice_parse (eq + 1, choice, error);
    }
  return FALSE;
}

static void
report_add (const char         *key,
            const WbTuneResult *result)
{
  g_autofree char *c = wb_tune_choice_format (&result->choice);
  g_autofree char *nl_line = g_strdup_printf ("\n%s: %s (%s)\n", key, c, result->source);
  const char *line = nl_line + 1;
  gboolean measured = result->trials && result->trials->len > 0;

  g_mutex_lock (&report_lock);
  if (report_text == NULL)
    report_text = g_string_new (NULL);
  /* A choice read again (every tile's worker, every sim of a grid) is
   * reported once; measurements always. */
  if (!measured && (g_str_has_prefix (report_text->str, line) || strstr (report_text->str, nl_line) != NULL))
    {
      g_mutex_unlock (&report_lock);
      return;
    }
  g_string_append (report_text, line);
  for (guint i = 0; result->trials && i < result->trials->len; i++)
    {
      const WbTuneTrial *t = &g_array_index (result->trials, WbTuneTrial, i);
      g_autofree char *tc = wb_tune_choice_format (&t->choice);

      if (t->seconds >= 0)
        g_string_append_printf (report_text, "  %-28s %10.3f us\n", tc, t->seconds * 1e6);
      else
        g_string_append_printf (report_text, "  %-28s failed: %s\n", tc, t->failure);
    }
  g_mutex_unlock (&report_lock);
}

char *
wb_tune_report (void)
{
  char *s;

  g_mutex_lock (&report_lock);
  s = g_strdup (report_text ? report_text->str : "");
  g_mutex_unlock (&report_lock);
  return s;
}

static void
trial_clear (gpointer p)
{
  WbTuneTrial *t = p;

  g_clear_pointer (&t->failure, g_free);
}

void
wb_tune_result_clear (WbTuneResult *result)
{
  g_clear_pointer (&result->trials, g_array_unref);
}

/* Reads the cached choice; it counts only if it is still a candidate (a
 * new version may have dropped or renamed a variant). */
static gboolean
cache_lookup (GKeyFile           *kf,
              const char         *group,
              const char         *key,
              const WbTuneChoice *candidates,
              guint               n,
              WbTuneChoice       *out)
{
  g_autofree char *value = g_key_file_get_string (kf, group, key, NULL);
  g_auto(GStrv) fields = NULL;
  WbTuneChoice c;

  if (value == NULL)
    return FALSE;
  /* "choice seconds": the time is kept for people reading the file. */
  fields = g_strsplit (value, " ", 2);
  if (!wb_tune_choice_parse (fields[0], &c, NULL))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (same_choice (&c, &candidates[i]))
      {
        *out = c;
        return TRUE;
      }
  return FALSE;
}

static void
cache_store (GKeyFile           *kf,
             const char         *path,
             const char         *group,
             const char         *key,
             const WbTuneChoice *choice,
             double              seconds)
{
  g_autofree char *c = wb_tune_choice_format (choice);
  g_autofree char *value = g_strdup_printf ("%s %.4g", c, seconds);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;

  g_key_file_set_string (kf, group, key, value);
  data = g_key_file_to_data (kf, &length, NULL);
  /* A cache that cannot be written only costs a new measurement next time. */
  if (g_mkdir_with_parents (dir, 0755) != 0
      || !wb_file_write_atomic (path, data, length, &error))
    g_message ("tuning cache %s not written: %s", path,
               error ? error->message : g_strerror (errno));
}

gboolean
wb_tune_choose (const WbDevice      *device,
                const char          *key,
                const WbTuneChoice  *candidates,
                guint                n,
                gboolean             cheap,
                WbTuneMeasureFunc    measure,
                gpointer             user_data,
                WbTuneResult        *result,
                GError             **error)
{
  static GMutex cache_lock;
  WbTunePolicy policy = wb_tune_policy ();
  g_autoptr(GKeyFile) kf = NULL;
  g_autofree char *path = NULL;
  g_autofree char *group = NULL;
  g_autoptr(GError) pin_error = NULL;
  double best = -1;

  g_return_val_if_fail (n >= 1, FALSE);
  memset (result, 0, sizeof *result);
  result->choice = candidates[0];
  result->source = "default";

  if (pinned (key, &result->choice, &pin_error))
    {
      result->source = "pinned";
      report_add (key, result);
      return TRUE;
    }
  if (pin_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&pin_error), "WAVEBENCH_TUNE_PIN: ");
      return FALSE;
    }
  if (policy == WB_TUNE_OFF || n == 1
      || (policy == WB_TUNE_AUTO && device->kind == WB_DEVICE_KIND_CPU && !cheap))
    {
      report_add (key, result);
      return TRUE;
    }

  path = wb_tune_cache_path ();
  group = device_group (device);
  kf = g_key_file_new ();
  g_mutex_lock (&cache_lock);
  g_key_file_load_from_file (kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
  if (policy == WB_TUNE_AUTO && cache_lookup (kf, group, key, candidates, n, &result->choice))
    {
      g_mutex_unlock (&cache_lock);
      result->source = "cache";
      report_add (key, result);
      return TRUE;
    }
  g_mutex_unlock (&cache_lock);

  result->trials = g_array_new (FALSE, TRUE, sizeof (WbTuneTrial));
  g_array_set_clear_func (result->trials, trial_clear);
  for (guint i = 0; i < n; i++)
    {
      WbTuneTrial t = { candidates[i], -1, NULL };
      g_autoptr(GError) local = NULL;
      double s = 0;

      if (measure (&candidates[i], &s, user_data, &local))
        {
          t.seconds = s;
          if (best < 0 || s < best)
            {
              best = s;
              result->choice = candidates[i];
            }
        }
      else
        t.failure = g_strdup (local ? local->message : "failed");
      g_array_append_val (result->trials, t);
    }
  if (best < 0)
    {
      const WbTuneTrial *t = &g_array_index (result->trials, WbTuneTrial, 0);

      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "tuning %s: none of %u launch configurations ran (the default: %s)",
                   key, n, t->failure);
      return FALSE;
    }
  result->source = "measured";
  g_debug ("%s: chose %s:%zux%zux%zu:%u (%.3f us)", key, result->choice.variant,
           result->choice.local[0], result->choice.local[1], result->choice.local[2],
           result->choice.param, best * 1e6);
  g_mutex_lock (&cache_lock);
  /* Reload: another process or sim may have written meanwhile. */
  g_key_file_load_from_file (kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
  cache_store (kf, path, group, key, &result->choice, best);
  g_mutex_unlock (&cache_lock);
  report_add (key, result);
  return TRUE;
}
