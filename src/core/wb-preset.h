/* wb-preset.h: presets are JSON documents (docs/presets.md) that a user
 * shares; they are loaded, overridden from the command line
 * (`--set time.steps=500`), validated by the solver that reads them, and
 * saved atomically.
 *
 * WbObj reads one JSON object with typed, range-checked getters that build
 * messages naming the full path of the member ("materials[2].density: must
 * be > 0, got -3"); wb_obj_finish() then refuses members nobody read
 * (unknown keys, with the known ones listed).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _WbPreset WbPreset;

struct _WbPreset
{
  JsonNode *root;        /* an object */
  char     *name;        /* file basename without .json, or the bundled name */
  char     *base_dir;    /* relative paths in the preset resolve here; may be NULL */
};

/* @name_or_path: an existing file path, or the name of a bundled preset
 * ("bhte-gaussian").  Syntax errors carry line and column. */
WbPreset   *wb_preset_load          (const char   *name_or_path,
                                     GError      **error);
WbPreset   *wb_preset_load_data     (const char   *json,
                                     gssize        length,
                                     const char   *name,
                                     const char   *base_dir,
                                     GError      **error);
WbPreset   *wb_preset_copy          (const WbPreset *preset);
void        wb_preset_free          (WbPreset     *preset);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbPreset, wb_preset_free)

/* "solver" member: "bhte", "vwe", "pstm". */
const char *wb_preset_get_solver    (const WbPreset *preset,
                                     GError      **error);

/* Applies "a.b.c=VALUE" or "a.list[2].b=VALUE".  VALUE is parsed as JSON
 * (number, true/false, null, array, object, quoted string) and otherwise
 * taken as a bare string.  Intermediate objects must exist, except that the
 * last key may be new (the solver then refuses it if unknown). */
gboolean    wb_preset_set           (WbPreset     *preset,
                                     const char   *assignment,
                                     GError      **error);

/* Reads the member at a dotted path, or NULL. */
JsonNode   *wb_preset_lookup        (const WbPreset *preset,
                                     const char   *path);

char       *wb_preset_to_data       (const WbPreset *preset,
                                     gsize        *length);
gboolean    wb_preset_save          (const WbPreset *preset,
                                     const char   *path,
                                     GError      **error);

/* Resolves a path given in the preset against its base_dir. */
char       *wb_preset_resolve_path  (const WbPreset *preset,
                                     const char   *path);

/* Names of the bundled presets, sorted.  Free with g_strfreev. */
char      **wb_preset_list_bundled  (void);

/* --- typed reader --------------------------------------------------- */

typedef struct _WbObj WbObj;

WbObj      *wb_obj_new              (JsonNode     *node,
                                     const char   *path,
                                     GError      **error);
void        wb_obj_free             (WbObj        *obj);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbObj, wb_obj_free)

const char *wb_obj_path             (WbObj        *obj);
gboolean    wb_obj_has              (WbObj        *obj,
                                     const char   *key);

/* Each getter: if the key is absent and @required is FALSE, leaves *out
 * untouched and returns TRUE (so callers preset defaults).  Values outside
 * [min, max] are refused with the bound. */
gboolean    wb_obj_get_double       (WbObj        *obj,
                                     const char   *key,
                                     gboolean      required,
                                     double        min,
                                     double        max,
                                     double       *out,
                                     GError      **error);
gboolean    wb_obj_get_int          (WbObj        *obj,
                                     const char   *key,
                                     gboolean      required,
                                     gint64        min,
                                     gint64        max,
                                     gint64       *out,
                                     GError      **error);
gboolean    wb_obj_get_bool         (WbObj        *obj,
                                     const char   *key,
                                     gboolean      required,
                                     gboolean     *out,
                                     GError      **error);
/* *out is owned by the caller (g_free); @choices, if not NULL, is a
 * NULL-terminated list of allowed values. */
gboolean    wb_obj_get_string       (WbObj        *obj,
                                     const char   *key,
                                     gboolean      required,
                                     const char  * const *choices,
                                     char        **out,
                                     GError      **error);
/* A fixed-length array of numbers, each in [min, max]. */
gboolean    wb_obj_get_doubles      (WbObj        *obj,
                                     const char   *key,
                                     gboolean      required,
                                     guint         n,
                                     double        min,
                                     double        max,
                                     double       *out,
                                     GError      **error);
gboolean    wb_obj_get_ints         (WbObj        *obj,
                                     const char   *key,
                                     gboolean      required,
                                     guint         n,
                                     gint64        min,
                                     gint64        max,
                                     gint64       *out,
                                     GError      **error);
/* A nested object (*out NULL when absent and not required). */
gboolean    wb_obj_get_obj          (WbObj        *obj,
                                     const char   *key,
                                     gboolean      required,
                                     WbObj       **out,
                                     GError      **error);
/* An array member: *out is its JsonArray (borrowed), NULL when absent. */
gboolean    wb_obj_get_array        (WbObj        *obj,
                                     const char   *key,
                                     gboolean      required,
                                     JsonArray   **out,
                                     GError      **error);
/* The raw node of a member (borrowed), marking it read. */
JsonNode   *wb_obj_get_node         (WbObj        *obj,
                                     const char   *key);
/* Element @index of an array member, as an object reader with path
 * "key[index]". */
WbObj      *wb_obj_array_element    (WbObj        *obj,
                                     const char   *key,
                                     JsonArray    *array,
                                     guint         index,
                                     GError      **error);

/* Refuses members that no getter asked for: "grid: unknown key 'sise'
 * (known keys: shape, spacing)".  The known keys are those the getters
 * were asked for, present or not. */
gboolean    wb_obj_finish           (WbObj        *obj,
                                     GError      **error);

G_END_DECLS
