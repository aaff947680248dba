#define G_LOG_DOMAIN "wb-interop"
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "wb-error.h"
#include "wb-interop-gl.h"
#include "wb-interop-resources.h"

#define SHADER_PREFIX "/org/wavebench/Wavebench/interop/shaders/"

void
wb_gl_probe (WbInteropCaps *caps,
             WbGlApi        api)
{
  const char *renderer = (const char *) glGetString (GL_RENDERER);

  caps->gl_available = renderer != NULL;
  caps->gl_api = api;
  g_free (caps->gl_renderer);
  caps->gl_renderer = g_strdup (renderer ? renderer : "none");
  caps->gl_n_uuids = 0;
  if (!caps->gl_available)
    return;
  caps->gl_memory_object_fd = epoxy_has_gl_extension ("GL_EXT_memory_object_fd");
  caps->gl_semaphore_fd = epoxy_has_gl_extension ("GL_EXT_semaphore_fd");
  /* Device UUIDs come with GL_EXT_memory_object (or _semaphore): one per
   * device the context spans, usually one. */
  if (epoxy_has_gl_extension ("GL_EXT_memory_object")
      || epoxy_has_gl_extension ("GL_EXT_semaphore"))
    {
      GLint n = 0;

      glGetIntegerv (GL_NUM_DEVICE_UUIDS_EXT, &n);
      n = CLAMP (n, 0, (GLint) G_N_ELEMENTS (caps->gl_uuids));
      for (GLint i = 0; i < n; i++)
        glGetUnsignedBytei_vEXT (GL_DEVICE_UUID_EXT, i, caps->gl_uuids[i]);
      caps->gl_n_uuids = n;
    }
  while (glGetError () != GL_NO_ERROR)
    ;
}

gboolean
wb_gl_check (const char *what,
             GError    **error)
{
  GLenum e = glGetError ();
  GLenum first = e;

  if (e == GL_NO_ERROR)
    return TRUE;
  while (e != GL_NO_ERROR)
    e = glGetError ();
  g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "%s: GL error 0x%04x", what, first);
  return FALSE;
}

gboolean
wb_gl_import_memory_fd (int      *fd,
                        gsize     allocation_size,
                        gboolean  dedicated,
                        gsize     size,
                        GLuint   *memory_object,
                        GLuint   *buffer,
                        GError  **error)
{
  GLuint mem = 0, buf = 0;
  GLint yes = GL_TRUE;

  while (glGetError () != GL_NO_ERROR)
    ;
  glCreateMemoryObjectsEXT (1, &mem);
  if (dedicated)
    glMemoryObjectParameterivEXT (mem, GL_DEDICATED_MEMORY_OBJECT_EXT, &yes);
  glImportMemoryFdEXT (mem, allocation_size, GL_HANDLE_TYPE_OPAQUE_FD_EXT, *fd);
  if (!wb_gl_check ("glImportMemoryFdEXT", error))
    {
      glDeleteMemoryObjectsEXT (1, &mem);
      return FALSE;
    }
  /* From here GL owns the fd, whatever happens next. */
  *fd = -1;
  glCreateBuffers (1, &buf);
  glNamedBufferStorageMemEXT (buf, size, mem, 0);
  if (!wb_gl_check ("glNamedBufferStorageMemEXT", error))
    {
      glDeleteBuffers (1, &buf);
      glDeleteMemoryObjectsEXT (1, &mem);
      return FALSE;
    }
  *memory_object = mem;
  *buffer = buf;
  return TRUE;
}

/* --- renderer ------------------------------------------------------------ */

struct _WbFieldRenderer
{
  GLuint program, vao, vbo;
  GLuint tex_field, tex_cmap, tex_material;
  GLint  u_rect, u_range, u_size, u_outline, u_field, u_cmap, u_material;
  guint  nx, ny;
  float  vmin, vmax;
  guint64 host_bytes;            /* uploaded from host memory, in total */
  gboolean borrowed;             /* tex_field is the caller's; nothing else exists */
};

char *
wb_field_renderer_shader_source (const char *name,
                                 GError    **error)
{
  g_autofree char *path = g_strconcat (SHADER_PREFIX, name, NULL);
  g_autoptr(GBytes) bytes = NULL;

  /* A reference keeps the resource (registered by its constructor) in
   * static links that would otherwise drop the unreferenced object. */
  (void) wb_interop_get_resource ();
  bytes = g_resources_lookup_data (path, 0, error);
  if (bytes == NULL)
    return NULL;
  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static GLuint
compile (GLenum      type,
         const char *version,
         const char *source,
         GError    **error)
{
  const char *parts[2] = { version, source };
  GLuint shader = glCreateShader (type);
  GLint status = 0;

  glShaderSource (shader, 2, parts, NULL);
  glCompileShader (shader);
  glGetShaderiv (shader, GL_COMPILE_STATUS, &status);
  if (!status)
    {
      char log[4096] = "";

      glGetShaderInfoLog (shader, sizeof log, NULL, log);
      g_set_error (error, WB_ERROR, WB_ERROR_BUILD, "%s shader: %s",
                   type == GL_VERTEX_SHADER ? "vertex" : "fragment", log);
      glDeleteShader (shader);
      return 0;
    }
  return shader;
}

static GLuint
nearest_texture (void)
{
  GLuint tex;

  glGenTextures (1, &tex);
  glBindTexture (GL_TEXTURE_2D, tex);
  glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  return tex;
}

WbFieldRenderer *
wb_field_renderer_new (const char *version,
                       const char *vertex_source,
                       const char *fragment_source,
                       GError    **error)
{
  static const float quad[] = { 0, 0, 1, 0, 0, 1, 1, 1 };
  static const float zero = 0;
  g_autoptr(WbFieldRenderer) r = g_new0 (WbFieldRenderer, 1);
  g_autofree char *vs_src = NULL, *fs_src = NULL;
  GLuint vs, fs;
  GLint status = 0;

  if (vertex_source == NULL)
    vertex_source = vs_src = wb_field_renderer_shader_source ("field.vert.glsl", error);
  if (vertex_source == NULL)
    return NULL;
  if (fragment_source == NULL)
    fragment_source = fs_src = wb_field_renderer_shader_source ("field.frag.glsl", error);
  if (fragment_source == NULL)
    return NULL;
  if (version == NULL)
    version = "#version 150\n";

  vs = compile (GL_VERTEX_SHADER, version, vertex_source, error);
  if (vs == 0)
    return NULL;
  fs = compile (GL_FRAGMENT_SHADER, version, fragment_source, error);
  if (fs == 0)
    {
      glDeleteShader (vs);
      return NULL;
    }
  r->program = glCreateProgram ();
  glAttachShader (r->program, vs);
  glAttachShader (r->program, fs);
  glBindAttribLocation (r->program, 0, "position");
  glLinkProgram (r->program);
  glDeleteShader (vs);
  glDeleteShader (fs);
  glGetProgramiv (r->program, GL_LINK_STATUS, &status);
  if (!status)
    {
      char log[4096] = "";

      glGetProgramInfoLog (r->program, sizeof log, NULL, log);
      g_set_error (error, WB_ERROR, WB_ERROR_BUILD, "field shaders: %s", log);
      return NULL;
    }
  r->u_rect = glGetUniformLocation (r->program, "rect");
  r->u_range = glGetUniformLocation (r->program, "range");
  r->u_size = glGetUniformLocation (r->program, "size");
  r->u_outline = glGetUniformLocation (r->program, "outline");
  r->u_field = glGetUniformLocation (r->program, "field");
  r->u_cmap = glGetUniformLocation (r->program, "colormap");
  r->u_material = glGetUniformLocation (r->program, "material");

  glGenVertexArrays (1, &r->vao);
  glBindVertexArray (r->vao);
  glGenBuffers (1, &r->vbo);
  glBindBuffer (GL_ARRAY_BUFFER, r->vbo);
  glBufferData (GL_ARRAY_BUFFER, sizeof quad, quad, GL_STATIC_DRAW);
  glEnableVertexAttribArray (0);
  glVertexAttribPointer (0, 2, GL_FLOAT, GL_FALSE, 0, NULL);
  glBindVertexArray (0);
  glBindBuffer (GL_ARRAY_BUFFER, 0);

  r->tex_field = nearest_texture ();
  r->tex_cmap = nearest_texture ();
  r->tex_material = nearest_texture ();
  glTexImage2D (GL_TEXTURE_2D, 0, GL_R32F, 1, 1, 0, GL_RED, GL_FLOAT, &zero);
  glBindTexture (GL_TEXTURE_2D, 0);
  r->vmin = 0;
  r->vmax = 1;
  /* Resolve the entry points that wb_field_renderer_free () needs now,
   * while the context is surely current (deleting nothing is legal). */
  glDeleteProgram (0);
  glDeleteBuffers (0, NULL);
  glDeleteVertexArrays (0, NULL);
  glDeleteTextures (0, NULL);
  if (!wb_gl_check ("field renderer", error))
    return NULL;
  return g_steal_pointer (&r);
}

WbFieldRenderer *
wb_field_renderer_new_for_texture (GLuint texture,
                                   guint  nx,
                                   guint  ny)
{
  WbFieldRenderer *r = g_new0 (WbFieldRenderer, 1);

  r->borrowed = TRUE;
  r->tex_field = texture;
  r->nx = nx;
  r->ny = ny;
  r->vmin = 0;
  r->vmax = 1;
  return r;
}

void
wb_field_renderer_free (WbFieldRenderer *r)
{
  if (r == NULL)
    return;
  if (r->borrowed)
    {
      g_free (r);
      return;
    }
  if (r->program)
    glDeleteProgram (r->program);
  if (r->vbo)
    glDeleteBuffers (1, &r->vbo);
  if (r->vao)
    glDeleteVertexArrays (1, &r->vao);
  if (r->tex_field)
    glDeleteTextures (1, &r->tex_field);
  if (r->tex_cmap)
    glDeleteTextures (1, &r->tex_cmap);
  if (r->tex_material)
    glDeleteTextures (1, &r->tex_material);
  g_free (r);
}

void
wb_field_renderer_set_size (WbFieldRenderer *r,
                            guint            nx,
                            guint            ny)
{
  g_return_if_fail (!r->borrowed);
  if (r->nx == nx && r->ny == ny)
    return;
  r->nx = nx;
  r->ny = ny;
  /* Immutable storage: later uploads only replace the contents. */
  glDeleteTextures (1, &r->tex_field);
  r->tex_field = nearest_texture ();
  glTexStorage2D (GL_TEXTURE_2D, 1, GL_R32F, nx, ny);
  glBindTexture (GL_TEXTURE_2D, 0);
}

void
wb_field_renderer_set_colormap (WbFieldRenderer *r,
                                const guint8    *rgb256)
{
  guint8 rgba[256 * 4];

  for (int i = 0; i < 256; i++)
    {
      memcpy (rgba + 4 * i, rgb256 + 3 * i, 3);
      rgba[4 * i + 3] = 255;
    }
  glBindTexture (GL_TEXTURE_2D, r->tex_cmap);
  glTexImage2D (GL_TEXTURE_2D, 0, GL_RGBA8, 256, 1, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
  glBindTexture (GL_TEXTURE_2D, 0);
}

void
wb_field_renderer_set_range (WbFieldRenderer *r,
                             double           vmin,
                             double           vmax)
{
  r->vmin = vmin;
  r->vmax = vmax;
}

void
wb_field_renderer_upload_host (WbFieldRenderer *r,
                               const float     *data)
{
  glBindBuffer (GL_PIXEL_UNPACK_BUFFER, 0);
  glBindTexture (GL_TEXTURE_2D, r->tex_field);
  glPixelStorei (GL_UNPACK_ALIGNMENT, 4);
  glTexSubImage2D (GL_TEXTURE_2D, 0, 0, 0, r->nx, r->ny, GL_RED, GL_FLOAT, data);
  glBindTexture (GL_TEXTURE_2D, 0);
  r->host_bytes += (guint64) r->nx * r->ny * sizeof (float);
}

void
wb_field_renderer_upload_buffer (WbFieldRenderer *r,
                                 GLuint           buffer,
                                 gsize            offset)
{
  /* With a pixel-unpack buffer bound the "pointer" is an offset into it,
   * and the transfer stays on the GPU. */
  glBindBuffer (GL_PIXEL_UNPACK_BUFFER, buffer);
  glBindTexture (GL_TEXTURE_2D, r->tex_field);
  glPixelStorei (GL_UNPACK_ALIGNMENT, 4);
  glTexSubImage2D (GL_TEXTURE_2D, 0, 0, 0, r->nx, r->ny, GL_RED, GL_FLOAT,
                   (const void *) (guintptr) offset);
  glBindTexture (GL_TEXTURE_2D, 0);
  glBindBuffer (GL_PIXEL_UNPACK_BUFFER, 0);
}

void
wb_field_renderer_draw (WbFieldRenderer *r,
                        const float     *rect)
{
  g_return_if_fail (!r->borrowed);
  glUseProgram (r->program);
  glUniform4f (r->u_rect, rect[0], rect[1], rect[2], rect[3]);
  glUniform2f (r->u_range, r->vmin, r->vmax);
  glUniform2i (r->u_size, r->nx, r->ny);
  glUniform1i (r->u_outline, 0);
  glActiveTexture (GL_TEXTURE0);
  glBindTexture (GL_TEXTURE_2D, r->tex_field);
  glUniform1i (r->u_field, 0);
  glActiveTexture (GL_TEXTURE1);
  glBindTexture (GL_TEXTURE_2D, r->tex_cmap);
  glUniform1i (r->u_cmap, 1);
  glActiveTexture (GL_TEXTURE2);
  glBindTexture (GL_TEXTURE_2D, r->tex_material);
  glUniform1i (r->u_material, 2);
  glBindVertexArray (r->vao);
  glDrawArrays (GL_TRIANGLE_STRIP, 0, 4);
  glBindVertexArray (0);
  glUseProgram (0);
  glActiveTexture (GL_TEXTURE0);
}

guint64
wb_field_renderer_get_host_bytes (WbFieldRenderer *r)
{
  return r->host_bytes;
}
