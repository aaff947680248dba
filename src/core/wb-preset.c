#define G_LOG_DOMAIN "wb-preset"
#include "config.h"

#include <math.h>
#include <string.h>
#include <gio/gio.h>

#include "wb-core-resources.h"
#include "wb-error.h"
#include "wb-io.h"
#include "wb-preset.h"

#define PRESET_RESOURCE_DIR RESOURCE_PREFIX "/presets"
/* A preset is a small document; a multi-megabyte one is a mistake. */
#define MAX_PRESET_SIZE (16 * 1024 * 1024)

void
wb_preset_free (WbPreset *preset)
{
  if (preset == NULL)
    return;
  g_clear_pointer (&preset->root, json_node_unref);
  g_free (preset->name);
  g_free (preset->base_dir);
  g_free (preset);
}

/* json_node_copy() shares the objects, arrays and values inside: a
 * "copy" changed by wb_preset_set() or stripped of a member would change
 * the original too.  Presets are small; copy every node. */
static JsonNode *
deep_copy (JsonNode *node)
{
  JsonNode *copy;

  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *src = json_node_get_object (node);
        JsonObject *obj = json_object_new ();
        g_autoptr(GList) members = json_object_get_members (src);

        for (GList *l = members; l; l = l->next)
          json_object_set_member (obj, l->data, deep_copy (json_object_get_member (src, l->data)));
        copy = json_node_init_object (json_node_alloc (), obj);
        json_object_unref (obj);
        return copy;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *src = json_node_get_array (node);
        JsonArray *arr = json_array_sized_new (json_array_get_length (src));

        for (guint i = 0; i < json_array_get_length (src); i++)
          json_array_add_element (arr, deep_copy (json_array_get_element (src, i)));
        copy = json_node_init_array (json_node_alloc (), arr);
        json_array_unref (arr);
        return copy;
      }
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_INT64:
          return json_node_init_int (json_node_alloc (), json_node_get_int (node));
        case G_TYPE_DOUBLE:
          return json_node_init_double (json_node_alloc (), json_node_get_double (node));
        case G_TYPE_BOOLEAN:
          return json_node_init_boolean (json_node_alloc (), json_node_get_boolean (node));
        case G_TYPE_STRING:
          return json_node_init_string (json_node_alloc (), json_node_get_string (node));
        default:
          return json_node_copy (node);
        }
    case JSON_NODE_NULL:
    default:
      return json_node_init_null (json_node_alloc ());
    }
}

WbPreset *
wb_preset_copy (const WbPreset *preset)
{
  WbPreset *p = g_new0 (WbPreset, 1);
  p->root = deep_copy (preset->root);
  p->name = g_strdup (preset->name);
  p->base_dir = g_strdup (preset->base_dir);
  return p;
}

/* json-glib 1.6 leaks the second value of a text holding two ("1 [2]",
 * "{} []") before it reports the error.  Find where the first value ends
 * (brackets matched outside strings) and say whether anything but
 * whitespace follows; unbalanced text is left to the parser's messages. */
static gboolean
has_trailing_value (const char *text,
                    gsize       len,
                    gsize      *offset)
{
  gsize i = 0;
  int depth = 0;
  gboolean in_string = FALSE;

  while (i < len && g_ascii_isspace (text[i]))
    i++;
  if (i == len)
    return FALSE;
  if (text[i] != '{' && text[i] != '[')
    {
      if (text[i] == '"')
        {
          for (i++; i < len && text[i] != '"'; i++)
            if (text[i] == '\\')
              i++;
          if (i >= len)
            return FALSE;
          i++;
        }
      else
        while (i < len && !g_ascii_isspace (text[i]) && strchr ("{}[]\",:", text[i]) == NULL)
          i++;
    }
  else
    {
      for (; i < len; i++)
        {
          char c = text[i];
          if (in_string)
            {
              if (c == '\\')
                i++;
              else if (c == '"')
                in_string = FALSE;
            }
          else if (c == '"')
            in_string = TRUE;
          else if (c == '{' || c == '[')
            depth++;
          else if ((c == '}' || c == ']') && --depth == 0)
            break;
        }
      if (i >= len)
        return FALSE;
      i++;
    }
  while (i < len && g_ascii_isspace (text[i]))
    i++;
  *offset = i;
  return i < len && text[i] != '\0';
}

/* JSON numbers beyond double range (1e400) parse as infinity, which no
 * solver accepts and which json-glib would save as "inf", unreadable.
 * Refuse them at the door, naming the member. */
static gboolean
check_finite (JsonNode    *node,
              const char  *path,
              GError     **error)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *o = json_node_get_object (node);
        g_autoptr(GList) members = json_object_get_members (o);
        for (GList *l = members; l; l = l->next)
          {
            g_autofree char *p = NULL;
            if (!g_utf8_validate (l->data, -1, NULL))
              {
                g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                             "%s: a key does not decode to UTF-8 text (check its escape sequences)",
                             *path ? path : "document");
                return FALSE;
              }
            p = *path ? g_strdup_printf ("%s.%s", path, (char *) l->data) : g_strdup (l->data);
            if (!check_finite (json_object_get_member (o, l->data), p, error))
              return FALSE;
          }
        return TRUE;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *a = json_node_get_array (node);
        for (guint i = 0; i < json_array_get_length (a); i++)
          {
            g_autofree char *p = g_strdup_printf ("%s[%u]", path, i);
            if (!check_finite (json_array_get_element (a, i), p, error))
              return FALSE;
          }
        return TRUE;
      }
    case JSON_NODE_VALUE:
      if (json_node_get_value_type (node) == G_TYPE_DOUBLE && !isfinite (json_node_get_double (node)))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "%s: the number is too large (beyond %g)", *path ? path : "value", G_MAXDOUBLE);
          return FALSE;
        }
      /* json-glib 1.6 decodes some long runs of escaped backslashes into
       * invalid UTF-8 (found by fuzz-preset): refuse rather than carry
       * bytes that no later save could write back. */
      if (json_node_get_value_type (node) == G_TYPE_STRING &&
          !g_utf8_validate (json_node_get_string (node), -1, NULL))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "%s: the string does not decode to UTF-8 text (check its escape sequences)",
                       *path ? path : "value");
          return FALSE;
        }
      return TRUE;
    case JSON_NODE_NULL:
    default:
      return TRUE;
    }
}

WbPreset *
wb_preset_load_data (const char  *json,
                     gssize       length,
                     const char  *name,
                     const char  *base_dir,
                     GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;
  WbPreset *preset;
  JsonNode *root;

  if (length < 0)
    length = strlen (json);
  if (length > MAX_PRESET_SIZE)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "preset '%s' is %" G_GSSIZE_FORMAT " bytes; presets are limited to %d bytes",
                   name, length, MAX_PRESET_SIZE);
      return NULL;
    }
  if (!g_utf8_validate (json, length, NULL))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "preset '%s' is not valid UTF-8 text", name);
      return NULL;
    }
  {
    gsize at = 0;
    if (has_trailing_value (json, length, &at))
      {
        guint64 line = 1, col = 1;
        for (gsize i = 0; i < at; i++)
          if (json[i] == '\n')
            line++, col = 1;
          else
            col++;
        g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                     "preset '%s': JSON syntax error at line %" G_GUINT64_FORMAT ", column %" G_GUINT64_FORMAT
                     ": unexpected text after the end of the document", name, line, col);
        return NULL;
      }
  }
  if (!json_parser_load_from_data (parser, json, length, &local))
    {
      /* json-glib says "<data>:LINE:COL: Parse error: WHAT"; say it plainly. */
      const char *msg = local->message;
      guint64 line = 0, col = 0;
      char *end = NULL;

      if (g_str_has_prefix (msg, "<data>:"))
        msg += strlen ("<data>:");
      line = g_ascii_strtoull (msg, &end, 10);
      if (end && *end == ':')
        col = g_ascii_strtoull (end + 1, &end, 10);
      if (line > 0 && end && *end == ':')
        {
          const char *what = end + 1;
          while (*what == ' ')
            what++;
          if (g_str_has_prefix (what, "Parse error: "))
            what += strlen ("Parse error: ");
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "preset '%s': JSON syntax error at line %" G_GUINT64_FORMAT ", column %" G_GUINT64_FORMAT ": %s",
                       name, line, col, what);
        }
      else
        g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                     "preset '%s': JSON syntax error: %s", name, msg);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "preset '%s' is empty", name);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "preset '%s': the document must be a JSON object", name);
      return NULL;
    }
  {
    g_autoptr(GError) local_num = NULL;
    if (!check_finite (root, "", &local_num))
      {
        g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "preset '%s': %s", name, local_num->message);
        return NULL;
      }
  }
  preset = g_new0 (WbPreset, 1);
  preset->root = json_node_copy (root);
  preset->name = g_strdup (name);
  preset->base_dir = g_strdup (base_dir);
  return preset;
}

WbPreset *
wb_preset_load (const char  *name_or_path,
                GError     **error)
{
  g_return_val_if_fail (name_or_path != NULL, NULL);

  if (g_file_test (name_or_path, G_FILE_TEST_EXISTS) ||
      strchr (name_or_path, '/') != NULL || g_str_has_suffix (name_or_path, ".json"))
    {
      g_autofree char *contents = NULL;
      g_autofree char *base = NULL;
      g_autofree char *dir = NULL;
      g_autoptr(GError) local = NULL;
      gsize len = 0;

      if (!g_file_get_contents (name_or_path, &contents, &len, &local))
        {
          g_set_error (error, WB_ERROR,
                       g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? WB_ERROR_NOT_FOUND : WB_ERROR_IO,
                       "cannot read preset: %s", local->message);
          return NULL;
        }
      base = g_path_get_basename (name_or_path);
      if (g_str_has_suffix (base, ".json"))
        base[strlen (base) - 5] = '\0';
      dir = g_path_get_dirname (name_or_path);
      return wb_preset_load_data (contents, len, base, dir, error);
    }
  else
    {
      g_autofree char *res = g_strdup_printf ("%s/%s.json", PRESET_RESOURCE_DIR, name_or_path);
      g_autoptr(GBytes) bytes = NULL;
      g_auto(GStrv) names = NULL;
      g_autofree char *list = NULL;

      (void) wb_core_get_resource ();
      bytes = g_resources_lookup_data (res, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
      if (bytes != NULL)
        return wb_preset_load_data (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                    name_or_path, NULL, error);
      names = wb_preset_list_bundled ();
      list = g_strjoinv (", ", names);
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND,
                   "no preset file or bundled preset named '%s' (bundled: %s)", name_or_path, list);
      return NULL;
    }
}

static int
cmp_str_ptr (gconstpointer a,
             gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

char **
wb_preset_list_bundled (void)
{
  g_auto(GStrv) children = NULL;

  (void) wb_core_get_resource ();
  children = g_resources_enumerate_children (PRESET_RESOURCE_DIR,
                                                           G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  GPtrArray *names = g_ptr_array_new ();

  for (guint i = 0; children && children[i]; i++)
    if (g_str_has_suffix (children[i], ".json"))
      g_ptr_array_add (names, g_strndup (children[i], strlen (children[i]) - 5));
  g_ptr_array_sort (names, cmp_str_ptr);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

const char *
wb_preset_get_solver (const WbPreset  *preset,
                      GError         **error)
{
  JsonObject *o = json_node_get_object (preset->root);
  JsonNode *n = json_object_get_member (o, "solver");

  if (n == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "preset '%s': missing required key 'solver' (one of bhte, vwe, pstm)", preset->name);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "preset '%s': solver: expected a string (one of bhte, vwe, pstm)", preset->name);
      return NULL;
    }
  return json_node_get_string (n);
}

/* --- paths: "a.b[2].c" ----------------------------------------------- */

typedef struct
{
  char  *key;     /* member name */
  gint64 index;   /* -1: none, else [index] after the member */
} Segment;

static GArray *
parse_path (const char  *path,
            GError     **error)
{
  GArray *segs = g_array_new (FALSE, TRUE, sizeof (Segment));
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);

  for (guint i = 0; parts[i]; i++)
    {
      Segment s = { NULL, -1 };
      char *br = strchr (parts[i], '[');

      if (br != NULL)
        {
          char *end = NULL;
          s.index = g_ascii_strtoll (br + 1, &end, 10);
          if (end == br + 1 || end == NULL || *end != ']' || end[1] != '\0' || s.index < 0)
            goto bad;
          *br = '\0';
        }
      if (parts[i][0] == '\0')
        goto bad;
      s.key = g_strdup (parts[i]);
      g_array_append_val (segs, s);
    }
  if (segs->len == 0)
    goto bad;
  return segs;

bad:
  for (guint i = 0; i < segs->len; i++)
    g_free (g_array_index (segs, Segment, i).key);
  g_array_free (segs, TRUE);
  g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
               "bad key path '%s' (expected names separated by dots, with optional [index])", path);
  return NULL;
}

static void
free_path (GArray *segs)
{
  for (guint i = 0; i < segs->len; i++)
    g_free (g_array_index (segs, Segment, i).key);
  g_array_free (segs, TRUE);
}

JsonNode *
wb_preset_lookup (const WbPreset *preset,
                  const char     *path)
{
  GArray *segs = parse_path (path, NULL);
  JsonNode *node = preset->root;

  if (segs == NULL)
    return NULL;
  for (guint i = 0; i < segs->len && node; i++)
    {
      Segment *s = &g_array_index (segs, Segment, i);
      if (!JSON_NODE_HOLDS_OBJECT (node))
        node = NULL;
      else
        node = json_object_get_member (json_node_get_object (node), s->key);
      if (node && s->index >= 0)
        {
          if (!JSON_NODE_HOLDS_ARRAY (node) ||
              (guint64) s->index >= json_array_get_length (json_node_get_array (node)))
            node = NULL;
          else
            node = json_array_get_element (json_node_get_array (node), (guint) s->index);
        }
    }
  free_path (segs);
  return node;
}

gboolean
wb_preset_set (WbPreset    *preset,
               const char  *assignment,
               GError     **error)
{
  const char *eq = strchr (assignment, '=');
  g_autofree char *path = NULL;
  g_autoptr(JsonNode) value = NULL;
  GArray *segs;
  JsonNode *node;
  gboolean ok = FALSE;

  if (eq == NULL || eq == assignment)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "--set '%s': expected KEY=VALUE, e.g. time.steps=500", assignment);
      return FALSE;
    }
  path = g_strndup (assignment, eq - assignment);
  g_strstrip (path);
  segs = parse_path (path, error);
  if (segs == NULL)
    return FALSE;

  {
    gsize at = 0;
    /* Two values are no JSON value: a bare string, without asking
     * json-glib (which would leak the second). */
    value = has_trailing_value (eq + 1, strlen (eq + 1), &at) ? NULL : json_from_string (eq + 1, NULL);
  }
  if (value != NULL && !check_finite (value, path, error))
    {
      free_path (segs);
      return FALSE;
    }
  if (value == NULL)
    {
      /* Not JSON: a bare word such as a material or colormap name. */
      value = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (value, eq + 1);
    }

  node = preset->root;
  for (guint i = 0; i < segs->len; i++)
    {
      Segment *s = &g_array_index (segs, Segment, i);
      gboolean last = i + 1 == segs->len;
      JsonObject *obj;
      JsonNode *child;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "--set %s: '%s' is inside something that is not an object", path, s->key);
          goto out;
        }
      obj = json_node_get_object (node);
      child = json_object_get_member (obj, s->key);
      if (last && s->index < 0)
        {
          json_object_set_member (obj, s->key, json_node_ref (value));
          ok = TRUE;
          goto out;
        }
      if (child == NULL)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "--set %s: the preset has no '%s' to set a value inside", path, s->key);
          goto out;
        }
      if (s->index >= 0)
        {
          JsonArray *arr;
          if (!JSON_NODE_HOLDS_ARRAY (child))
            {
              g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                           "--set %s: '%s' is not an array", path, s->key);
              goto out;
            }
          arr = json_node_get_array (child);
          if ((guint64) s->index >= json_array_get_length (arr))
            {
              g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                           "--set %s: index %" G_GINT64_FORMAT " is past the end of '%s' (%u elements)",
                           path, s->index, s->key, json_array_get_length (arr));
              goto out;
            }
          if (last)
            {
              /* JsonArray has no setter: rebuild it with the new element. */
              JsonArray *copy = json_array_new ();
              for (guint e = 0; e < json_array_get_length (arr); e++)
                json_array_add_element (copy, e == (guint) s->index ? json_node_ref (value)
                                                                    : json_node_copy (json_array_get_element (arr, e)));
              json_object_set_array_member (obj, s->key, copy);
              ok = TRUE;
              goto out;
            }
          child = json_array_get_element (arr, (guint) s->index);
        }
      node = child;
    }

out:
  free_path (segs);
  return ok;
}

/* Our own writer: json-glib 1.6's generator writes "1e+308.0" for large
 * doubles (unreadable) and a stray byte after long runs of escaped
 * backslashes (invalid UTF-8; found by fuzz-preset), and a saved preset
 * must load back as it was. */
static void
write_string (GString    *out,
              const char *s)
{
  g_string_append_c (out, '"');
  for (const guchar *c = (const guchar *) s; *c; c++)
    {
      switch (*c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\r': g_string_append (out, "\\r"); break;
        default:
          if (*c < 0x20)
            g_string_append_printf (out, "\\u%04x", *c);
          else
            g_string_append_c (out, (char) *c);
        }
    }
  g_string_append_c (out, '"');
}

static void
write_double (GString *out,
              double   v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* The shortest of 15..17 digits that reads back to the same double. */
  for (int digits = 15; digits <= 17; digits++)
    {
      char fmt[8];
      g_snprintf (fmt, sizeof fmt, "%%.%dg", digits);
      g_ascii_formatd (buf, sizeof buf, fmt, v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }
  g_string_append (out, buf);
  if (strpbrk (buf, ".eEn") == NULL)
    g_string_append (out, ".0");
}

static void
write_node (GString  *out,
            JsonNode *node,
            guint     depth)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *o = json_node_get_object (node);
        g_autoptr(GList) members = json_object_get_members (o);

        if (members == NULL)
          {
            g_string_append (out, "{}");
            return;
          }
        g_string_append (out, "{\n");
        for (GList *l = members; l; l = l->next)
          {
            g_string_append_printf (out, "%*s", (int) (2 * (depth + 1)), "");
            write_string (out, l->data);
            g_string_append (out, " : ");
            write_node (out, json_object_get_member (o, l->data), depth + 1);
            g_string_append (out, l->next ? ",\n" : "\n");
          }
        g_string_append_printf (out, "%*s}", (int) (2 * depth), "");
        return;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *a = json_node_get_array (node);
        guint n = json_array_get_length (a);

        if (n == 0)
          {
            g_string_append (out, "[]");
            return;
          }
        g_string_append (out, "[\n");
        for (guint i = 0; i < n; i++)
          {
            g_string_append_printf (out, "%*s", (int) (2 * (depth + 1)), "");
            write_node (out, json_array_get_element (a, i), depth + 1);
            g_string_append (out, i + 1 < n ? ",\n" : "\n");
          }
        g_string_append_printf (out, "%*s]", (int) (2 * depth), "");
        return;
      }
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_INT64:
          g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
          return;
        case G_TYPE_DOUBLE:
          write_double (out, json_node_get_double (node));
          return;
        case G_TYPE_BOOLEAN:
          g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          return;
        case G_TYPE_STRING:
          write_string (out, json_node_get_string (node));
          return;
        default:
          g_string_append (out, "null");
          return;
        }
    case JSON_NODE_NULL:
    default:
      g_string_append (out, "null");
      return;
    }
}

char *
wb_preset_to_data (const WbPreset *preset,
                   gsize          *length)
{
  GString *out = g_string_new (NULL);

  write_node (out, preset->root, 0);
  if (length)
    *length = out->len;
  return g_string_free (out, FALSE);
}

gboolean
wb_preset_save (const WbPreset *preset,
                const char     *path,
                GError        **error)
{
  gsize len = 0;
  g_autofree char *data = wb_preset_to_data (preset, &len);
  g_autofree char *with_nl = g_strconcat (data, "\n", NULL);
  return wb_file_write_atomic (path, with_nl, len + 1, error);
}

char *
wb_preset_resolve_path (const WbPreset *preset,
                        const char     *path)
{
  if (g_path_is_absolute (path) || preset->base_dir == NULL)
    return g_strdup (path);
  return g_build_filename (preset->base_dir, path, NULL);
}

/* --- typed reader ---------------------------------------------------- */

struct _WbObj
{
  JsonObject *obj;
  char       *path;
  GPtrArray  *asked;     /* keys asked for, in order */
};

WbObj *
wb_obj_new (JsonNode    *node,
            const char  *path,
            GError     **error)
{
  WbObj *o;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: expected an object",
                   path && *path ? path : "preset");
      return NULL;
    }
  o = g_new0 (WbObj, 1);
  o->obj = json_object_ref (json_node_get_object (node));
  o->path = g_strdup (path ? path : "");
  o->asked = g_ptr_array_new_with_free_func (g_free);
  return o;
}

void
wb_obj_free (WbObj *obj)
{
  if (obj == NULL)
    return;
  json_object_unref (obj->obj);
  g_free (obj->path);
  g_ptr_array_unref (obj->asked);
  g_free (obj);
}

const char *
wb_obj_path (WbObj *obj)
{
  return obj->path;
}

static char *
member_path (WbObj      *obj,
             const char *key)
{
  return *obj->path ? g_strdup_printf ("%s.%s", obj->path, key) : g_strdup (key);
}

static void
mark_asked (WbObj      *obj,
            const char *key)
{
  for (guint i = 0; i < obj->asked->len; i++)
    if (g_str_equal (obj->asked->pdata[i], key))
      return;
  g_ptr_array_add (obj->asked, g_strdup (key));
}

gboolean
wb_obj_has (WbObj      *obj,
            const char *key)
{
  mark_asked (obj, key);
  return json_object_has_member (obj->obj, key);
}

JsonNode *
wb_obj_get_node (WbObj      *obj,
                 const char *key)
{
  mark_asked (obj, key);
  return json_object_get_member (obj->obj, key);
}

static const char *
node_type_name (JsonNode *n)
{
  if (JSON_NODE_HOLDS_NULL (n))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT (n))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY (n))
    return "an array";
  switch (json_node_get_value_type (n))
    {
    case G_TYPE_STRING: return "a string";
    case G_TYPE_BOOLEAN: return "a boolean";
    case G_TYPE_INT64: return "an integer";
    case G_TYPE_DOUBLE: return "a number";
    default: return "a value";
    }
}

/* Fetches a member: NULL with *ok TRUE when absent and optional. */
static JsonNode *
fetch (WbObj       *obj,
       const char  *key,
       gboolean     required,
       gboolean    *ok,
       GError     **error)
{
  JsonNode *n = wb_obj_get_node (obj, key);

  *ok = TRUE;
  if (n == NULL && required)
    {
      g_autofree char *p = member_path (obj, key);
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "missing required key '%s'", p);
      *ok = FALSE;
    }
  return n;
}

static gboolean
node_number (JsonNode *n,
             double   *out)
{
  if (!JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  switch (json_node_get_value_type (n))
    {
    case G_TYPE_INT64:
      *out = (double) json_node_get_int (n);
      return TRUE;
    case G_TYPE_DOUBLE:
      *out = json_node_get_double (n);
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
check_double (const char *path,
              JsonNode   *n,
              double      min,
              double      max,
              double     *out,
              GError    **error)
{
  double v;

  if (!node_number (n, &v))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: expected a number, got %s",
                   path, node_type_name (n));
      return FALSE;
    }
  if (!isfinite (v) || v < min || v > max)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s = %g is out of range [%g, %g]",
                   path, v, min, max);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
check_int (const char *path,
           JsonNode   *n,
           gint64      min,
           gint64      max,
           gint64     *out,
           GError    **error)
{
  double d;
  gint64 v;

  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64)
    v = json_node_get_int (n);
  else if (node_number (n, &d) && d == floor (d) && fabs (d) < 9e15)
    v = (gint64) d;
  else
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: expected an integer, got %s",
                   path, node_type_name (n));
      return FALSE;
    }
  if (v < min || v > max)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s = %" G_GINT64_FORMAT " is out of range [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
                   path, v, min, max);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

gboolean
wb_obj_get_double (WbObj       *obj,
                   const char  *key,
                   gboolean     required,
                   double       min,
                   double       max,
                   double      *out,
                   GError     **error)
{
  gboolean ok;
  JsonNode *n = fetch (obj, key, required, &ok, error);
  g_autofree char *p = NULL;

  if (n == NULL)
    return ok;
  p = member_path (obj, key);
  return check_double (p, n, min, max, out, error);
}

gboolean
wb_obj_get_int (WbObj       *obj,
                const char  *key,
                gboolean     required,
                gint64       min,
                gint64       max,
                gint64      *out,
                GError     **error)
{
  gboolean ok;
  JsonNode *n = fetch (obj, key, required, &ok, error);
  g_autofree char *p = NULL;

  if (n == NULL)
    return ok;
  p = member_path (obj, key);
  return check_int (p, n, min, max, out, error);
}

gboolean
wb_obj_get_bool (WbObj       *obj,
                 const char  *key,
                 gboolean     required,
                 gboolean    *out,
                 GError     **error)
{
  gboolean ok;
  JsonNode *n = fetch (obj, key, required, &ok, error);

  if (n == NULL)
    return ok;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    {
      g_autofree char *p = member_path (obj, key);
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: expected true or false, got %s",
                   p, node_type_name (n));
      return FALSE;
    }
  *out = json_node_get_boolean (n);
  return TRUE;
}

gboolean
wb_obj_get_string (WbObj              *obj,
                   const char         *key,
                   gboolean            required,
                   const char * const *choices,
                   char              **out,
                   GError            **error)
{
  gboolean ok;
  JsonNode *n = fetch (obj, key, required, &ok, error);
  g_autofree char *p = NULL;
  const char *s;

  if (n == NULL)
    return ok;
  p = member_path (obj, key);
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: expected a string, got %s",
                   p, node_type_name (n));
      return FALSE;
    }
  s = json_node_get_string (n);
  if (choices != NULL && !g_strv_contains (choices, s))
    {
      g_autofree char *list = g_strjoinv (", ", (char **) choices);
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: '%s' is not one of %s", p, s, list);
      return FALSE;
    }
  g_free (*out);
  *out = g_strdup (s);
  return TRUE;
}

static JsonArray *
fetch_array (WbObj       *obj,
             const char  *key,
             gboolean     required,
             guint        n,
             gboolean    *ok,
             GError     **error)
{
  JsonNode *node = fetch (obj, key, required, ok, error);
  g_autofree char *p = NULL;
  JsonArray *arr;

  if (node == NULL)
    return NULL;
  p = member_path (obj, key);
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: expected an array of %u numbers, got %s",
                   p, n, node_type_name (node));
      *ok = FALSE;
      return NULL;
    }
  arr = json_node_get_array (node);
  if (json_array_get_length (arr) != n)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: expected %u numbers, got %u",
                   p, n, json_array_get_length (arr));
      *ok = FALSE;
      return NULL;
    }
  return arr;
}

gboolean
wb_obj_get_doubles (WbObj       *obj,
                    const char  *key,
                    gboolean     required,
                    guint        n,
                    double       min,
                    double       max,
                    double      *out,
                    GError     **error)
{
  gboolean ok;
  JsonArray *arr = fetch_array (obj, key, required, n, &ok, error);
  double tmp[16];

  g_return_val_if_fail (n <= G_N_ELEMENTS (tmp), FALSE);
  if (arr == NULL)
    return ok;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *p = NULL;
      g_autofree char *base = member_path (obj, key);
      p = g_strdup_printf ("%s[%u]", base, i);
      if (!check_double (p, json_array_get_element (arr, i), min, max, &tmp[i], error))
        return FALSE;
    }
  memcpy (out, tmp, n * sizeof (double));
  return TRUE;
}

gboolean
wb_obj_get_ints (WbObj       *obj,
                 const char  *key,
                 gboolean     required,
                 guint        n,
                 gint64       min,
                 gint64       max,
                 gint64      *out,
                 GError     **error)
{
  gboolean ok;
  JsonArray *arr = fetch_array (obj, key, required, n, &ok, error);
  gint64 tmp[16];

  g_return_val_if_fail (n <= G_N_ELEMENTS (tmp), FALSE);
  if (arr == NULL)
    return ok;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *base = member_path (obj, key);
      g_autofree char *p = g_strdup_printf ("%s[%u]", base, i);
      if (!check_int (p, json_array_get_element (arr, i), min, max, &tmp[i], error))
        return FALSE;
    }
  memcpy (out, tmp, n * sizeof (gint64));
  return TRUE;
}

gboolean
wb_obj_get_obj (WbObj       *obj,
                const char  *key,
                gboolean     required,
                WbObj      **out,
                GError     **error)
{
  gboolean ok;
  JsonNode *n = fetch (obj, key, required, &ok, error);
  g_autofree char *p = NULL;

  *out = NULL;
  if (n == NULL)
    return ok;
  p = member_path (obj, key);
  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: expected an object, got %s",
                   p, node_type_name (n));
      return FALSE;
    }
  *out = wb_obj_new (n, p, error);
  return *out != NULL;
}

gboolean
wb_obj_get_array (WbObj       *obj,
                  const char  *key,
                  gboolean     required,
                  JsonArray  **out,
                  GError     **error)
{
  gboolean ok;
  JsonNode *n = fetch (obj, key, required, &ok, error);

  *out = NULL;
  if (n == NULL)
    return ok;
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      g_autofree char *p = member_path (obj, key);
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: expected an array, got %s",
                   p, node_type_name (n));
      return FALSE;
    }
  *out = json_node_get_array (n);
  return TRUE;
}

WbObj *
wb_obj_array_element (WbObj       *obj,
                      const char  *key,
                      JsonArray   *array,
                      guint        index,
                      GError     **error)
{
  g_autofree char *base = member_path (obj, key);
  g_autofree char *p = g_strdup_printf ("%s[%u]", base, index);
  JsonNode *n;

  if (index >= json_array_get_length (array))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: no such element", p);
      return NULL;
    }
  n = json_array_get_element (array, index);
  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: expected an object, got %s",
                   p, node_type_name (n));
      return NULL;
    }
  return wb_obj_new (n, p, error);
}

gboolean
wb_obj_finish (WbObj   *obj,
               GError **error)
{
  g_autoptr(GList) members = json_object_get_members (obj->obj);

  for (GList *l = members; l; l = l->next)
    {
      const char *key = l->data;
      gboolean known = FALSE;

      for (guint i = 0; i < obj->asked->len && !known; i++)
        known = g_str_equal (obj->asked->pdata[i], key);
      if (!known)
        {
          g_autofree char *p = member_path (obj, key);
          g_autoptr(GString) list = g_string_new (NULL);
          for (guint i = 0; i < obj->asked->len; i++)
            g_string_append_printf (list, "%s%s", i ? ", " : "", (char *) obj->asked->pdata[i]);
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "unknown key '%s' (known keys%s%s: %s)",
                       p, *obj->path ? " in " : "", obj->path, list->str);
          return FALSE;
        }
    }
  return TRUE;
}
