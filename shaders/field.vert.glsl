/* field.vert.glsl: a unit quad placed at the field's rectangle.
 * The "#version" line is prepended at run time (GLSL 150 or 300 es). */

in vec2 position;          /* (0,0) .. (1,1) */
uniform vec4 rect;         /* x0, y0, x1, y1 in normalised device coordinates */
out vec2 uv;

void
main ()
{
  uv = position;
  gl_Position = vec4 (mix (rect.xy, rect.zw, position), 0.0, 1.0);
}
