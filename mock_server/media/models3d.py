"""Deterministic 3D models: a seeded "pebble" mesh written as GLB, glTF, OBJ, PLY or STL.

**The mesh** (:func:`build_mesh`): an icosphere (icosahedron subdivided ``detail`` times: 0..5,
default 3 = 642 vertices, 1280 triangles) whose radius is perturbed by a few seeded smooth bumps
and dents and then stretched along the axes (0.7..1.3 each). The surface stays a radial function
of the direction, so the mesh is always closed (watertight), manifold, free of
self-intersections, and wound counter-clockwise seen from outside (positive volume). Normals
are per vertex (area-weighted face normals). Only ``+ - * /`` and ``sqrt`` are used (all exactly
rounded in IEEE arithmetic), then values are rounded to float32, so the bytes are identical on
every machine. The base colour is seeded (a saturated hue), with seeded metallic/roughness.

**Formats** (:func:`build_model`, or one function each):

* ``glb`` (``model/gltf-binary``): glTF 2.0 binary — 12-byte header, a JSON chunk padded with
  spaces and a BIN chunk padded with zeros to 4 bytes; one scene, node, mesh and triangle
  primitive with ``POSITION`` (with the float32 ``min``/``max`` the spec requires), ``NORMAL``
  and ``indices`` (unsigned short: at most 10242 vertices), each in its own
  4-aligned buffer view with its ``target``; one PBR metallic-roughness material.
* ``gltf`` (``model/gltf+json``): the same document as JSON with the buffer embedded as a
  ``data:application/octet-stream;base64,`` URI.
* ``obj`` (``model/obj``): text, ``v`` / ``vn`` / ``f a//a b//b c//c`` (1-based), six decimals.
* ``ply`` (``application/ply``; PLY has no registered MIME type): binary little-endian, vertex
  ``x y z nx ny nz`` floats plus ``red green blue`` uchar (the base colour), faces as
  ``list uchar int``.
* ``stl`` (``model/stl``): binary STL, an 80-byte header that does not start with ``solid``
  (so readers do not mistake it for ASCII STL), facet normals, attribute 0.

Unknown formats raise :class:`.errors.UnsupportedFormat`; a ``detail`` outside 0..5 raises
:class:`.errors.GeometryError` (level 5 is 10242 vertices, 20480 triangles).
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from ._seeded import SeededStream, seed_bytes
from .errors import GeometryError, UnsupportedFormat

__all__ = [
    "MODEL_FORMATS",
    "GeneratedModel",
    "Mesh",
    "build_glb",
    "build_gltf",
    "build_mesh",
    "build_model",
    "build_obj",
    "build_ply",
    "build_stl",
]

Vec3 = tuple[float, float, float]
MAX_DETAIL: Final = 5
_GENERATOR: Final = "fal-mock media"
_FLOAT: Final = struct.Struct("<f")


@dataclass(frozen=True, slots=True)
class Mesh:
    """A closed triangle mesh with per-vertex normals and a material (all floats already float32 values)."""

    positions: tuple[Vec3, ...]
    normals: tuple[Vec3, ...]
    triangles: tuple[tuple[int, int, int], ...]
    base_color: tuple[float, float, float, float]  # linear RGBA, glTF's baseColorFactor
    metallic: float
    roughness: float
    name: str

    @property
    def bounds(self) -> tuple[Vec3, Vec3]:
        """(min, max) of the positions."""
        xs, ys, zs = zip(*self.positions, strict=True)
        return (min(xs), min(ys), min(zs)), (max(xs), max(ys), max(zs))


@dataclass(frozen=True, slots=True)
class GeneratedModel:
    """An encoded 3D model and the facts of its bytes."""

    data: bytes
    content_type: str
    extension: str
    format: str  # "glb", "gltf", "obj", "ply", "stl"
    vertex_count: int
    triangle_count: int
    size: int  # len(data)
    bounds_min: Vec3
    bounds_max: Vec3


# --- the mesh ------------------------------------------------------------------------------------


def _f32(value: float) -> float:
    return float(_FLOAT.unpack(_FLOAT.pack(value))[0])


def _normalise(v: Vec3) -> Vec3:
    length = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    if length == 0.0:
        return (0.0, 0.0, 1.0)
    return (v[0] / length, v[1] / length, v[2] / length)


def _midpoint(vertices: list[Vec3], midpoints: dict[tuple[int, int], int], a: int, b: int) -> int:
    """The index of the (new or shared) unit vertex between ``a`` and ``b``."""
    key = (a, b) if a < b else (b, a)
    index = midpoints.get(key)
    if index is None:
        va, vb = vertices[a], vertices[b]
        vertices.append(_normalise(((va[0] + vb[0]) / 2, (va[1] + vb[1]) / 2, (va[2] + vb[2]) / 2)))
        index = midpoints[key] = len(vertices) - 1
    return index


def _icosphere(detail: int) -> tuple[list[Vec3], list[tuple[int, int, int]]]:
    t = (1.0 + math.sqrt(5.0)) / 2.0
    raw = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t),
           (0, -1, -t), (0, 1, -t), (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]  # fmt: skip
    vertices = [_normalise((float(x), float(y), float(z))) for x, y, z in raw]
    faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2),
             (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5),
             (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)]  # fmt: skip
    for _ in range(detail):
        midpoints: dict[tuple[int, int], int] = {}
        refined = []
        for a, b, c in faces:
            ab, bc, ca = (_midpoint(vertices, midpoints, u, v) for u, v in ((a, b), (b, c), (c, a)))
            refined += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = refined
    return vertices, faces


def _random_direction(rng: SeededStream) -> Vec3:
    while True:  # rejection sampling in the unit ball (terminates with probability 1; ~1.9 draws on average)
        v = (rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0))
        n = v[0] * v[0] + v[1] * v[1] + v[2] * v[2]
        if 0.01 < n <= 1.0:
            return _normalise(v)


def _cross(u: Vec3, v: Vec3) -> Vec3:
    return (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])


def _srgb_to_linear(c: float) -> float:
    # A polynomial fit of the sRGB curve is enough for a colour factor; avoids pow() (libm-dependent).
    return c * (c * (c * 0.305306011 + 0.682171111) + 0.012522878)


def build_mesh(*, seed: bytes, detail: int = 3) -> Mesh:
    """The seeded pebble mesh (see the module docstring)."""
    if isinstance(detail, bool) or not isinstance(detail, int) or not 0 <= detail <= MAX_DETAIL:
        raise GeometryError(f"detail must be an integer from 0 to {MAX_DETAIL}, got {detail!r}")
    rng = SeededStream("model/mesh", seed_bytes(seed))
    bumps = []
    for _ in range(rng.between(4, 7)):
        sharpness = rng.choice((2, 4, 8, 16))
        bumps.append((_random_direction(rng), rng.uniform(-0.22, 0.32), sharpness))
    stretch = (rng.uniform(0.7, 1.3), rng.uniform(0.7, 1.3), rng.uniform(0.7, 1.3))

    directions, triangles = _icosphere(detail)
    positions: list[Vec3] = []
    for d in directions:
        radius = 1.0
        for (cx, cy, cz), amplitude, sharpness in bumps:
            dot = d[0] * cx + d[1] * cy + d[2] * cz
            if dot > 0.0:
                power = dot
                p = 1
                while p < sharpness:
                    power *= power
                    p *= 2
                radius += amplitude * power
        radius = max(radius, 0.45)
        positions.append(
            (_f32(d[0] * radius * stretch[0]), _f32(d[1] * radius * stretch[1]), _f32(d[2] * radius * stretch[2]))
        )

    sums = [[0.0, 0.0, 0.0] for _ in positions]
    for a, b, c in triangles:
        pa, pb, pc = positions[a], positions[b], positions[c]
        n = _cross((pb[0] - pa[0], pb[1] - pa[1], pb[2] - pa[2]), (pc[0] - pa[0], pc[1] - pa[1], pc[2] - pa[2]))
        for i in (a, b, c):
            s = sums[i]
            s[0] += n[0]
            s[1] += n[1]
            s[2] += n[2]
    normals = []
    for s, d in zip(sums, directions, strict=True):
        nx, ny, nz = _normalise((s[0], s[1], s[2])) if any(s) else d
        normals.append((_f32(nx), _f32(ny), _f32(nz)))

    # A saturated seeded hue: HSV with S=0.7, V=0.9 computed piecewise (no trig), then to linear.
    h6 = rng.unit() * 6.0
    sector = int(h6)
    f = h6 - sector
    v, p_, q, t_ = 0.9, 0.9 * 0.3, 0.9 * (1 - 0.7 * f), 0.9 * (1 - 0.7 * (1 - f))
    rgb = ((v, t_, p_), (q, v, p_), (p_, v, t_), (p_, q, v), (t_, p_, v), (v, p_, q))[sector % 6]
    colour = (_f32(_srgb_to_linear(rgb[0])), _f32(_srgb_to_linear(rgb[1])), _f32(_srgb_to_linear(rgb[2])), 1.0)
    return Mesh(
        positions=tuple(positions),
        normals=tuple(normals),
        triangles=tuple(triangles),
        base_color=colour,
        metallic=_f32(rng.uniform(0.0, 0.4)),
        roughness=_f32(rng.uniform(0.35, 0.85)),
        name=f"pebble-{seed_bytes(seed)[:4].hex() or 'x'}",
    )


# --- writers -------------------------------------------------------------------------------------


def _result(mesh: Mesh, data: bytes, fmt: str, content_type: str) -> GeneratedModel:
    low, high = mesh.bounds
    return GeneratedModel(
        data=data,
        content_type=content_type,
        extension=fmt,
        format=fmt,
        vertex_count=len(mesh.positions),
        triangle_count=len(mesh.triangles),
        size=len(data),
        bounds_min=low,
        bounds_max=high,
    )


def _pad(data: bytes, filler: bytes) -> bytes:
    return data + filler * (-len(data) % 4)


def _gltf_document(mesh: Mesh) -> tuple[dict[str, Any], bytes]:
    """The glTF JSON (without ``buffers[0].uri``) and its binary buffer."""
    count = len(mesh.positions)
    flat_positions = [c for p in mesh.positions for c in p]
    flat_normals = [c for n in mesh.normals for c in n]
    flat_indices = [i for tri in mesh.triangles for i in tri]
    position_bytes = struct.pack(f"<{len(flat_positions)}f", *flat_positions)
    normal_bytes = struct.pack(f"<{len(flat_normals)}f", *flat_normals)
    index_bytes = _pad(struct.pack(f"<{len(flat_indices)}H", *flat_indices), b"\0")  # <= 10242 vertices
    views = []
    offset = 0
    for payload, target in ((position_bytes, 34962), (normal_bytes, 34962), (index_bytes, 34963)):
        views.append({"buffer": 0, "byteOffset": offset, "byteLength": len(payload), "target": target})
        offset += len(payload)
    views[2]["byteLength"] = 2 * len(flat_indices)  # without the padding
    low, high = mesh.bounds
    document: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": _GENERATOR},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": mesh.name}],
        "meshes": [
            {
                "name": mesh.name,
                "primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1}, "indices": 2, "material": 0, "mode": 4}],
            }
        ],
        "materials": [
            {
                "name": f"{mesh.name}-material",
                "pbrMetallicRoughness": {
                    "baseColorFactor": list(mesh.base_color),
                    "metallicFactor": mesh.metallic,
                    "roughnessFactor": mesh.roughness,
                },
            }
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": count,
                "type": "VEC3",
                "min": list(low),
                "max": list(high),
            },
            {"bufferView": 1, "componentType": 5126, "count": count, "type": "VEC3"},
            {"bufferView": 2, "componentType": 5123, "count": len(flat_indices), "type": "SCALAR"},
        ],
        "bufferViews": views,
        "buffers": [{"byteLength": offset}],
    }
    return document, position_bytes + normal_bytes + index_bytes


def _json_bytes(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), sort_keys=True, allow_nan=False).encode("utf-8")


def _glb(mesh: Mesh) -> bytes:
    document, binary = _gltf_document(mesh)
    json_chunk = _pad(_json_bytes(document), b" ")
    bin_chunk = _pad(binary, b"\0")
    total = 12 + 8 + len(json_chunk) + 8 + len(bin_chunk)
    return b"".join(
        (
            struct.pack("<4sII", b"glTF", 2, total),
            struct.pack("<I4s", len(json_chunk), b"JSON"),
            json_chunk,
            struct.pack("<I4s", len(bin_chunk), b"BIN\0"),
            bin_chunk,
        )
    )


def _gltf(mesh: Mesh) -> bytes:
    document, binary = _gltf_document(mesh)
    document["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(binary).decode("ascii")
    return _json_bytes(document)


def _obj(mesh: Mesh) -> bytes:
    lines = [f"# {_GENERATOR}: {len(mesh.positions)} vertices, {len(mesh.triangles)} triangles", f"o {mesh.name}"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.positions]
    lines += [f"vn {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.normals]
    lines += [f"f {a + 1}//{a + 1} {b + 1}//{b + 1} {c + 1}//{c + 1}" for a, b, c in mesh.triangles]
    return ("\n".join(lines) + "\n").encode("ascii")


def _colour_bytes(mesh: Mesh) -> tuple[int, int, int]:
    # Back from linear to sRGB-ish 8-bit for vertex colours (square root is close to the sRGB curve).
    r, g, b, _ = mesh.base_color
    return round(math.sqrt(r) * 255), round(math.sqrt(g) * 255), round(math.sqrt(b) * 255)


def _ply(mesh: Mesh) -> bytes:
    header = "\n".join(
        [
            "ply",
            "format binary_little_endian 1.0",
            f"comment {_GENERATOR}",
            f"element vertex {len(mesh.positions)}",
            *(f"property float {name}" for name in ("x", "y", "z", "nx", "ny", "nz")),
            *(f"property uchar {name}" for name in ("red", "green", "blue")),
            f"element face {len(mesh.triangles)}",
            "property list uchar int vertex_indices",
            "end_header",
        ]
    )
    vertex = struct.Struct("<6f3B")
    face = struct.Struct("<B3i")
    colour = _colour_bytes(mesh)
    body = b"".join(vertex.pack(*p, *n, *colour) for p, n in zip(mesh.positions, mesh.normals, strict=True))
    faces = b"".join(face.pack(3, *tri) for tri in mesh.triangles)
    return header.encode("ascii") + b"\n" + body + faces


def _stl(mesh: Mesh) -> bytes:
    header = f"{_GENERATOR} binary STL {mesh.name}".encode("ascii")[:80].ljust(80, b"\0")
    facet = struct.Struct("<12fH")
    out = [header, struct.pack("<I", len(mesh.triangles))]
    pos = mesh.positions
    for a, b, c in mesh.triangles:
        pa, pb, pc = pos[a], pos[b], pos[c]
        n = _normalise(
            _cross((pb[0] - pa[0], pb[1] - pa[1], pb[2] - pa[2]), (pc[0] - pa[0], pc[1] - pa[1], pc[2] - pa[2]))
        )
        out.append(facet.pack(*n, *pa, *pb, *pc, 0))
    return b"".join(out)


@dataclass(frozen=True, slots=True)
class _Writer:
    write: Callable[[Mesh], bytes]
    content_type: str


MODEL_FORMATS: Final[Mapping[str, _Writer]] = MappingProxyType(
    {
        "glb": _Writer(_glb, "model/gltf-binary"),
        "gltf": _Writer(_gltf, "model/gltf+json"),
        "obj": _Writer(_obj, "model/obj"),
        "ply": _Writer(_ply, "application/ply"),
        "stl": _Writer(_stl, "model/stl"),
    }
)


def build_model(model_format: str, *, seed: bytes, detail: int = 3) -> GeneratedModel:
    """The seeded mesh written as ``model_format`` (``glb``, ``gltf``, ``obj``, ``ply``, ``stl``; case-insensitive)."""
    key = model_format.strip().lower().lstrip(".") if isinstance(model_format, str) else ""
    writer = MODEL_FORMATS.get(key)
    if writer is None:
        raise UnsupportedFormat("3D model", str(model_format), tuple(MODEL_FORMATS))
    mesh = build_mesh(seed=seed, detail=detail)
    return _result(mesh, writer.write(mesh), key, writer.content_type)


def build_glb(*, seed: bytes, detail: int = 3) -> GeneratedModel:
    """A glTF 2.0 binary of the seeded mesh."""
    return build_model("glb", seed=seed, detail=detail)


def build_gltf(*, seed: bytes, detail: int = 3) -> GeneratedModel:
    """A glTF 2.0 JSON file (buffer embedded as a data URI) of the seeded mesh."""
    return build_model("gltf", seed=seed, detail=detail)


def build_obj(*, seed: bytes, detail: int = 3) -> GeneratedModel:
    """A Wavefront OBJ (text) of the seeded mesh."""
    return build_model("obj", seed=seed, detail=detail)


def build_ply(*, seed: bytes, detail: int = 3) -> GeneratedModel:
    """A binary little-endian PLY of the seeded mesh."""
    return build_model("ply", seed=seed, detail=detail)


def build_stl(*, seed: bytes, detail: int = 3) -> GeneratedModel:
    """A binary STL of the seeded mesh."""
    return build_model("stl", seed=seed, detail=detail)
