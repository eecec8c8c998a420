import type { DecodeResult } from '../../src/client/pool/index.js';
import type { Renderer, RendererKind, TileImage } from './Renderer.js';

interface GlTile extends TileImage {
  tex: WebGLTexture;
}

const VS = `#version 300 es
in vec2 a;
uniform vec4 r; // x, y, w, h in clip space
out vec2 uv;
void main() { uv = a; gl_Position = vec4(r.xy + a * r.zw, 0.0, 1.0); }`;

const FS = `#version 300 es
precision mediump float;
in vec2 uv;
uniform sampler2D t;
out vec4 o;
void main() { o = vec4(texture(t, uv).rgb, 1.0); }`;

/** WebGL2 with its S3TC extension, or undefined when either is missing. */
export function probeWebGL(
  canvas: HTMLCanvasElement,
): { gl: WebGL2RenderingContext; s3tc: boolean } | undefined {
  const gl = canvas.getContext('webgl2', { antialias: false, alpha: false, preserveDrawingBuffer: false });
  if (!gl) return undefined;
  return { gl, s3tc: gl.getExtension('WEBGL_compressed_texture_s3tc') !== null };
}

/**
 * Textured quads, one per tile. With `bc1` tiles are uploaded as
 * COMPRESSED_RGB_S3TC_DXT1 (0.5 byte/pixel, 8x less GPU memory than RGBA8);
 * with `rgba` as plain RGBA8 (the comparison in the benchmark).
 */
export function createWebGLRenderer(gl: WebGL2RenderingContext, format: 'bc1' | 'rgba'): Renderer {
  const s3tc = gl.getExtension('WEBGL_compressed_texture_s3tc');
  if (format === 'bc1' && !s3tc) throw new Error('WEBGL_compressed_texture_s3tc is not available');
  const prog = link(gl);
  const loc = { a: gl.getAttribLocation(prog, 'a'), r: gl.getUniformLocation(prog, 'r') };
  const vao = gl.createVertexArray();
  gl.bindVertexArray(vao);
  const buf = gl.createBuffer();
  gl.bindBuffer(gl.ARRAY_BUFFER, buf);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
  gl.enableVertexAttribArray(loc.a);
  gl.vertexAttribPointer(loc.a, 2, gl.FLOAT, false, 0, 0);
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  const kind: RendererKind = format === 'bc1' ? 'webgl-bc1' : 'webgl-rgba';

  return {
    kind,
    decodeAs: format,
    textureFormat: format === 'bc1' ? 'COMPRESSED_RGB_S3TC_DXT1_EXT' : 'RGBA8',
    upload(decoded: DecodeResult): GlTile {
      const tex = gl.createTexture();
      if (!tex) throw new Error('WebGL context lost');
      gl.bindTexture(gl.TEXTURE_2D, tex);
      let bytes: number;
      if (decoded.kind === 'blocks') {
        gl.compressedTexImage2D(
          gl.TEXTURE_2D,
          0,
          s3tc!.COMPRESSED_RGB_S3TC_DXT1_EXT,
          decoded.width,
          decoded.height,
          0,
          decoded.data,
        );
        bytes = decoded.data.byteLength;
      } else if (decoded.kind === 'rgba') {
        gl.texImage2D(
          gl.TEXTURE_2D,
          0,
          gl.RGBA8,
          decoded.width,
          decoded.height,
          0,
          gl.RGBA,
          gl.UNSIGNED_BYTE,
          decoded.data,
        );
        bytes = decoded.data.byteLength;
      } else {
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, decoded.bitmap);
        bytes = decoded.width * decoded.height * 4;
        decoded.bitmap.close();
      }
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      return { tex, bytes };
    },
    release(img) {
      gl.deleteTexture((img as GlTile).tex);
    },
    frame(draws, viewW, viewH, dpr) {
      gl.viewport(0, 0, Math.round(viewW * dpr), Math.round(viewH * dpr));
      gl.clearColor(0.043, 0.051, 0.071, 1);
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.useProgram(prog);
      gl.bindVertexArray(vao);
      gl.activeTexture(gl.TEXTURE0);
      for (const { img, rect } of draws) {
        gl.bindTexture(gl.TEXTURE_2D, (img as GlTile).tex);
        // CSS px -> clip space, y down; the quad's (0,0) is the tile's top-left.
        const x = (rect.x / viewW) * 2 - 1;
        const y = 1 - (rect.y / viewH) * 2;
        gl.uniform4f(loc.r, x, y, ((rect.w + 0.5) / viewW) * 2, (-(rect.h + 0.5) / viewH) * 2);
        gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      }
    },
  };
}

function link(gl: WebGL2RenderingContext): WebGLProgram {
  const prog = gl.createProgram();
  for (const [type, src] of [
    [gl.VERTEX_SHADER, VS],
    [gl.FRAGMENT_SHADER, FS],
  ] as const) {
    const sh = gl.createShader(type)!;
    gl.shaderSource(sh, src);
    gl.compileShader(sh);
    if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS))
      throw new Error(gl.getShaderInfoLog(sh) ?? 'shader error');
    gl.attachShader(prog, sh);
  }
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS))
    throw new Error(gl.getProgramInfoLog(prog) ?? 'link error');
  return prog;
}
