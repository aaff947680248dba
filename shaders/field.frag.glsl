/* field.frag.glsl: a scalar field through a colormap, with a material
 * outline overlay.
 *
 * The field is an R32F texture read with texelFetch, so each cell shows
 * its own value (no interpolation between cells: the view must show what
 * the solver computed).  The colormap is a 256-entry lookup table (a
 * 256 x 1 texture, which GLES also has); the index is round (t * 255),
 * exactly what wb_colormap_map () does for PNG export, so the screen and
 * the exported pictures agree pixel for pixel. */

in vec2 uv;
out vec4 frag_color;

uniform sampler2D field;      /* R32F, size = cells */
uniform sampler2D colormap;   /* RGBA8, 256 x 1 */
uniform sampler2D material;   /* R32F, same size as field */
uniform vec2 range;           /* vmin, vmax */
uniform ivec2 size;           /* cells */
uniform int outline;          /* 1: draw material boundaries */

float
mat_at (ivec2 c)
{
  return texelFetch (material, clamp (c, ivec2 (0), size - 1), 0).r;
}

void
main ()
{
  vec2 p = uv * vec2 (size);
  ivec2 cell = clamp (ivec2 (floor (p)), ivec2 (0), size - 1);
  float v = texelFetch (field, cell, 0).r;
  vec3 rgb;

  if (isnan (v) || isinf (v))
    rgb = vec3 (1.0, 0.0, 1.0);   /* the NaN colour of wb_colormap_map () */
  else
    {
      float span = range.y - range.x;
      float t = span > 0.0 ? clamp ((v - range.x) / span, 0.0, 1.0) : 0.5;
      float index = floor (t * 255.0 + 0.5);
      rgb = texelFetch (colormap, ivec2 (int (index), 0), 0).rgb;
    }

  if (outline == 1)
    {
      /* A cell edge is an outline where the material differs across it;
       * the line is about one screen pixel wide at any zoom. */
      vec2 f = p - vec2 (cell);
      vec2 w = max (fwidth (p), vec2 (1e-6));
      float m = mat_at (cell);
      bool edge = (f.x < w.x && cell.x > 0 && mat_at (cell - ivec2 (1, 0)) != m)
               || (1.0 - f.x < w.x && cell.x < size.x - 1 && mat_at (cell + ivec2 (1, 0)) != m)
               || (f.y < w.y && cell.y > 0 && mat_at (cell - ivec2 (0, 1)) != m)
               || (1.0 - f.y < w.y && cell.y < size.y - 1 && mat_at (cell + ivec2 (0, 1)) != m);
      if (edge)
        rgb = mix (rgb, vec3 (1.0), 0.8);
    }

  frag_color = vec4 (rgb, 1.0);
}
