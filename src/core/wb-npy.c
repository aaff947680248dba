#define G_LOG_DOMAIN "wb-npy"
#include "config.h"

#include <math.h>
#include <string.h>

#include "wb-error.h"
#include "wb-io.h"
#include "wb-npy.h"

/* Arrays larger than this are refused before any allocation. */
#define MAX_NPY_ELEMENTS ((guint64) 1 << 34)

void
wb_npy_array_free (WbNpyArray *array)
{
  if (array == NULL)
    return;
  g_free (array->data);
  g_free (array);
}

static gboolean
npy_fail (GError    **error,
          const char *name,
          const char *msg)
{
  g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "'%s' is not a valid .npy file: %s", name, msg);
  return FALSE;
}

/* Finds 'key': in the header dict and returns a pointer just past the colon. */
static const char *
dict_value (const char *header,
            const char *key)
{
  g_autofree char *k1 = g_strdup_printf ("'%s'", key);
  g_autofree char *k2 = g_strdup_printf ("\"%s\"", key);
  const char *p = strstr (header, k1);

  if (p == NULL)
    p = strstr (header, k2);
  if (p == NULL)
    return NULL;
  p += strlen (k1);
  while (*p == ' ')
    p++;
  if (*p != ':')
    return NULL;
  p++;
  while (*p == ' ')
    p++;
  return p;
}

typedef struct
{
  char     kind;      /* f i u b */
  guint    size;      /* bytes */
  gboolean swap;      /* stored big-endian */
} Dtype;

static gboolean
parse_descr (const char *v,
             Dtype      *dt,
             char       *descr_out)
{
  char q;
  char buf[8] = "";
  guint n = 0;

  if (v == NULL || (*v != '\'' && *v != '"'))
    return FALSE;
  q = *v++;
  while (*v && *v != q && n < sizeof buf - 1)
    buf[n++] = *v++;
  if (*v != q || n < 2)
    return FALSE;
  buf[n] = '\0';
  g_strlcpy (descr_out, buf, 8);
  {
    const char *s = buf;
    char order = '=';
    if (*s == '<' || *s == '>' || *s == '|' || *s == '=')
      order = *s++;
    dt->kind = *s++;
    if (*s < '1' || *s > '8' || s[1] != '\0')
      return FALSE;
    dt->size = *s - '0';
    dt->swap = order == '>' && dt->size > 1;
  }
  switch (dt->kind)
    {
    case 'f':
      return dt->size == 4 || dt->size == 8;
    case 'i':
    case 'u':
      return dt->size == 1 || dt->size == 2 || dt->size == 4 || dt->size == 8;
    case 'b':
      return dt->size == 1;
    default:
      return FALSE;
    }
}

static double
load_value (const guint8 *p,
            const Dtype  *dt)
{
  guint8 b[8];

  for (guint i = 0; i < dt->size; i++)
    b[i] = dt->swap ? p[dt->size - 1 - i] : p[i];
  switch (dt->kind)
    {
    case 'f':
      if (dt->size == 4)
        {
          float f;
          memcpy (&f, b, 4);
          return f;
        }
      else
        {
          double d;
          memcpy (&d, b, 8);
          return d;
        }
    case 'b':
      return b[0] != 0;
    case 'u':
      switch (dt->size)
        {
        case 1: return b[0];
        case 2: { guint16 v; memcpy (&v, b, 2); return v; }
        case 4: { guint32 v; memcpy (&v, b, 4); return v; }
        default: { guint64 v; memcpy (&v, b, 8); return (double) v; }
        }
    case 'i':
    default:
      switch (dt->size)
        {
        case 1: return (gint8) b[0];
        case 2: { gint16 v; memcpy (&v, b, 2); return v; }
        case 4: { gint32 v; memcpy (&v, b, 4); return v; }
        default: { gint64 v; memcpy (&v, b, 8); return (double) v; }
        }
    }
}

WbNpyArray *
wb_npy_read_data (const guint8 *data,
                  gsize         length,
                  const char   *name,
                  GError      **error)
{
  g_autofree char *header = NULL;
  g_autoptr(WbNpyArray) arr = NULL;
  gsize hlen, offset;
  guint major;
  const char *v;
  Dtype dt;
  gboolean fortran;
  guint64 file_shape[3] = { 1, 1, 1 };
  guint ndim = 0;
  guint64 count = 1;

  if (length < 10 || memcmp (data, "\x93NUMPY", 6) != 0)
    return npy_fail (error, name, "missing the \\x93NUMPY magic"), NULL;
  major = data[6];
  if (major == 1)
    {
      hlen = data[8] | (data[9] << 8);
      offset = 10;
    }
  else if (major == 2 || major == 3)
    {
      if (length < 12)
        return npy_fail (error, name, "truncated header"), NULL;
      hlen = (gsize) data[8] | ((gsize) data[9] << 8) | ((gsize) data[10] << 16) | ((gsize) data[11] << 24);
      offset = 12;
    }
  else
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "'%s' is not a valid .npy file: unsupported format version %u", name, major);
      return NULL;
    }
  if (hlen > length - offset || hlen > 1 << 20)
    return npy_fail (error, name, "truncated header"), NULL;
  header = g_strndup ((const char *) data + offset, hlen);
  offset += hlen;

  v = dict_value (header, "descr");
  memset (&dt, 0, sizeof dt);
  arr = g_new0 (WbNpyArray, 1);
  if (!parse_descr (v, &dt, arr->dtype))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "'%s': unsupported or missing dtype (supported: float32, float64, int8..int64, uint8..uint64, bool)",
                   name);
      return NULL;
    }
  v = dict_value (header, "fortran_order");
  if (v != NULL && g_str_has_prefix (v, "True"))
    fortran = TRUE;
  else if (v != NULL && g_str_has_prefix (v, "False"))
    fortran = FALSE;
  else
    return npy_fail (error, name, "missing or bad 'fortran_order'"), NULL;

  v = dict_value (header, "shape");
  if (v == NULL || *v != '(')
    return npy_fail (error, name, "missing or bad 'shape'"), NULL;
  v++;
  for (;;)
    {
      char *end = NULL;
      guint64 dim;

      while (*v == ' ')
        v++;
      if (*v == ')')
        break;
      if (!g_ascii_isdigit (*v))
        return npy_fail (error, name, "bad 'shape'"), NULL;
      dim = g_ascii_strtoull (v, &end, 10);
      if (end == v || dim > MAX_NPY_ELEMENTS)
        return npy_fail (error, name, "bad 'shape'"), NULL;
      if (ndim >= 3)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "'%s': arrays of more than 3 dimensions are not supported", name);
          return NULL;
        }
      file_shape[ndim++] = dim;
      count *= MAX (dim, 1);
      if (count > MAX_NPY_ELEMENTS)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                       "'%s': the array is too large (over %" G_GUINT64_FORMAT " elements)", name,
                       MAX_NPY_ELEMENTS);
          return NULL;
        }
      if (dim == 0)
        count = 0;
      v = end;
      while (*v == ' ')
        v++;
      if (*v == ',')
        v++;
      else if (*v != ')')
        return npy_fail (error, name, "bad 'shape'"), NULL;
    }
  if (count * dt.size > length - offset)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "'%s' is truncated: the header promises %" G_GUINT64_FORMAT " bytes of data, the file holds %" G_GSIZE_FORMAT,
                   name, count * dt.size, length - offset);
      return NULL;
    }

  arr->ndim = ndim;
  for (guint d = 0; d < 3; d++)
    arr->shape[d] = file_shape[d];
  arr->integer = dt.kind != 'f';
  arr->data = g_try_new (double, MAX (count, 1));
  if (arr->data == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE, "'%s': out of memory for %" G_GUINT64_FORMAT " elements",
                   name, count);
      return NULL;
    }
  {
    const guint8 *p = data + offset;
    gsize s0 = arr->shape[0], s1 = arr->shape[1], s2 = arr->shape[2];
    /* Our layout is i fastest; a C-order file has its last index fastest. */
    for (gsize n = 0; n < count; n++)
      {
        gsize dst;
        if (fortran || ndim <= 1)
          dst = n;
        else if (ndim == 2)
          {
            gsize i = n / s1, j = n % s1;
            dst = i + s0 * j;
          }
        else
          {
            gsize k = n % s2, j = (n / s2) % s1, i = n / (s1 * s2);
            dst = i + s0 * (j + s1 * k);
          }
        arr->data[dst] = load_value (p + n * dt.size, &dt);
      }
  }
  return g_steal_pointer (&arr);
}

WbNpyArray *
wb_npy_read (const char  *path,
             GError     **error)
{
  g_autoptr(GMappedFile) map = NULL;
  g_autoptr(GError) local = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND, "cannot read '%s': no such file", path);
      return NULL;
    }
  map = g_mapped_file_new (path, FALSE, &local);
  if (map == NULL)
    {
      g_set_error (error, WB_ERROR,
                   g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? WB_ERROR_NOT_FOUND : WB_ERROR_IO,
                   "cannot read '%s': %s", path, local->message);
      return NULL;
    }
  return wb_npy_read_data ((const guint8 *) g_mapped_file_get_contents (map),
                           g_mapped_file_get_length (map), path, error);
}

static GByteArray *
npy_header (const char *descr,
            gboolean    fortran,
            const gsize *shape,
            guint        ndim)
{
  GString *dict = g_string_new (NULL);
  GByteArray *out = g_byte_array_new ();
  guint8 pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };
  gsize total;

  g_string_append_printf (dict, "{'descr': '%s', 'fortran_order': %s, 'shape': (",
                          descr, fortran ? "True" : "False");
  for (guint d = 0; d < ndim; d++)
    g_string_append_printf (dict, "%" G_GSIZE_FORMAT "%s", shape[d], ndim == 1 ? "," : (d + 1 < ndim ? ", " : ""));
  g_string_append (dict, "), }");
  /* Pad so that the data starts on a 64-byte boundary, ending in '\n'. */
  total = 10 + dict->len + 1;
  while (total % 64 != 0)
    {
      g_string_append_c (dict, ' ');
      total++;
    }
  g_string_append_c (dict, '\n');
  pre[8] = dict->len & 0xff;
  pre[9] = (dict->len >> 8) & 0xff;
  g_byte_array_append (out, pre, 10);
  g_byte_array_append (out, (const guint8 *) dict->str, dict->len);
  g_string_free (dict, TRUE);
  return out;
}

GBytes *
wb_npy_encode_field (const WbField *field)
{
  GByteArray *out = npy_header ("<f4", TRUE, field->shape, field->ndim);
  gsize n = wb_field_n_elements (field);

  G_STATIC_ASSERT (G_BYTE_ORDER == G_LITTLE_ENDIAN);
  g_byte_array_append (out, (const guint8 *) field->data, n * sizeof (float));
  return g_byte_array_free_to_bytes (out);
}

gboolean
wb_npy_write_field (const WbField *field,
                    const char    *path,
                    GError       **error)
{
  g_autoptr(GBytes) bytes = wb_npy_encode_field (field);
  return wb_file_write_atomic (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), error);
}

gboolean
wb_npy_write_matrix (const float *data,
                     gsize        rows,
                     gsize        cols,
                     const char  *path,
                     GError     **error)
{
  gsize shape[2] = { rows, cols };
  g_autoptr(GByteArray) out = npy_header ("<f4", FALSE, shape, 2);

  g_byte_array_append (out, (const guint8 *) data, rows * cols * sizeof (float));
  return wb_file_write_atomic (path, out->data, out->len, error);
}
