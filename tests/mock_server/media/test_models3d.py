"""3D models, parsed by third-party readers: pygltflib (glTF structure) and trimesh (every format)."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pygltflib
import pytest
import trimesh
from fal_mock.mock_server.media.errors import GeometryError, UnsupportedFormat
from fal_mock.mock_server.media.models3d import (
    MODEL_FORMATS,
    build_glb,
    build_mesh,
    build_model,
    build_obj,
    build_ply,
    build_stl,
)


def _load(data: bytes, file_type: str) -> trimesh.Trimesh:
    mesh = trimesh.load(io.BytesIO(data), file_type=file_type, force="mesh", process=False)
    assert isinstance(mesh, trimesh.Trimesh)
    return mesh


def test_glb_container_layout() -> None:
    model = build_glb(seed=b"glb")
    data = model.data
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_length, json_type = struct.unpack_from("<I4s", data, 12)
    assert json_type == b"JSON"
    assert json_length % 4 == 0
    bin_length, bin_type = struct.unpack_from("<I4s", data, 20 + json_length)
    assert bin_type == b"BIN\0"
    assert bin_length % 4 == 0
    assert 28 + json_length + bin_length == len(data)
    document = json.loads(data[20 : 20 + json_length])
    assert document["buffers"][0]["byteLength"] <= bin_length
    assert all(view["byteOffset"] % 4 == 0 for view in document["bufferViews"])
    assert (model.content_type, model.extension, model.size) == ("model/gltf-binary", "glb", len(data))


def test_glb_parses_with_pygltflib_and_its_accessors_are_true() -> None:
    model = build_glb(seed=b"parse")
    gltf = pygltflib.GLTF2.load_from_bytes(model.data)
    assert gltf.asset.version == "2.0"
    assert gltf.scenes[gltf.scene].nodes == [0]
    primitive = gltf.meshes[gltf.nodes[0].mesh].primitives[0]
    assert primitive.mode == pygltflib.TRIANGLES
    blob = gltf.binary_blob()
    assert blob is not None

    def read(accessor_index: int, dtype: str, width: int) -> np.ndarray:
        accessor = gltf.accessors[accessor_index]
        view = gltf.bufferViews[accessor.bufferView]
        start = view.byteOffset + (accessor.byteOffset or 0)
        values = np.frombuffer(blob, dtype=dtype, count=accessor.count * width, offset=start)
        return values.reshape(accessor.count, width) if width > 1 else values

    positions = read(primitive.attributes.POSITION, "<f4", 3)
    normals = read(primitive.attributes.NORMAL, "<f4", 3)
    indices = read(primitive.indices, "<u2", 1)
    position_accessor = gltf.accessors[primitive.attributes.POSITION]
    assert position_accessor.min == positions.min(axis=0).tolist()  # exact float32 values
    assert position_accessor.max == positions.max(axis=0).tolist()
    assert gltf.bufferViews[position_accessor.bufferView].target == pygltflib.ARRAY_BUFFER
    assert gltf.bufferViews[gltf.accessors[primitive.indices].bufferView].target == pygltflib.ELEMENT_ARRAY_BUFFER
    assert len(positions) == model.vertex_count == 642
    assert len(indices) == 3 * model.triangle_count == 3 * 1280
    assert indices.max() < len(positions)
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
    assert (tuple(positions.min(axis=0)), tuple(positions.max(axis=0))) == (model.bounds_min, model.bounds_max)
    material = gltf.materials[primitive.material]
    colour = material.pbrMetallicRoughness.baseColorFactor
    assert len(colour) == 4
    assert all(0 <= c <= 1 for c in colour)
    assert colour[3] == 1
    assert max(colour[:3]) - min(colour[:3]) > 0.2  # a saturated colour, not grey


def test_mesh_is_a_closed_outward_surface() -> None:
    model = build_glb(seed=b"closed")
    mesh = _load(model.data, "glb")
    assert (len(mesh.vertices), len(mesh.faces)) == (model.vertex_count, model.triangle_count)
    assert mesh.is_watertight
    assert mesh.is_winding_consistent
    assert mesh.volume > 0.5  # counter-clockwise from outside (a negative volume means inward)
    assert np.allclose(mesh.bounds, [model.bounds_min, model.bounds_max])
    # Vertex normals point outward: they agree with the face normals around them.
    face_normals = mesh.face_normals
    stored = np.asarray(build_mesh(seed=b"closed").normals)
    assert np.mean(np.einsum("ij,ij->i", stored[mesh.faces[:, 0]], face_normals) > 0.5) > 0.98


@pytest.mark.parametrize("fmt", ["glb", "gltf", "obj", "ply", "stl"])
def test_every_format_loads_with_the_same_geometry(fmt: str) -> None:
    model = build_model(fmt, seed=b"same")
    glb = _load(build_glb(seed=b"same").data, "glb")
    mesh = _load(model.data, fmt)
    if fmt == "stl":
        mesh.merge_vertices()  # STL stores each triangle's corners separately
    assert (len(mesh.vertices), len(mesh.faces)) == (model.vertex_count, model.triangle_count)
    assert mesh.is_watertight
    assert mesh.is_winding_consistent
    assert np.isclose(mesh.volume, glb.volume, rtol=1e-4)
    assert np.allclose(mesh.bounds, glb.bounds, atol=1e-5)
    assert model.content_type == MODEL_FORMATS[fmt].content_type
    assert model.size == len(model.data)


def test_stl_header_is_not_mistaken_for_ascii_and_normals_match() -> None:
    data = build_stl(seed=b"stl").data
    assert not data.startswith(b"solid")
    (count,) = struct.unpack_from("<I", data, 80)
    assert len(data) == 84 + 50 * count
    mesh = trimesh.load(io.BytesIO(data), file_type="stl", force="mesh", process=False)
    records = np.frombuffer(data, dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", 9), ("a", "<u2")]), offset=84)
    assert np.allclose(records["n"], mesh.face_normals, atol=1e-5)


def test_ply_and_obj_are_what_they_claim() -> None:
    ply = build_ply(seed=b"p").data
    assert ply.startswith(b"ply\nformat binary_little_endian 1.0\n")
    colours = _load(ply, "ply").visual.vertex_colors
    assert len(np.unique(colours[:, :3], axis=0)) == 1  # the base colour on every vertex
    obj = build_obj(seed=b"o").data.decode("ascii")
    assert obj.count("\nv ") == 642
    assert obj.count("\nvn ") == 642
    assert obj.count("\nf ") == 1280


@pytest.mark.parametrize("detail", range(6))
def test_detail_levels(detail: int) -> None:
    model = build_glb(seed=b"d", detail=detail)
    assert model.vertex_count == 10 * 4**detail + 2
    assert model.triangle_count == 20 * 4**detail
    assert _load(model.data, "glb").is_watertight


def test_deterministic_and_seeded() -> None:
    for fmt in MODEL_FORMATS:
        assert build_model(fmt, seed=b"a").data == build_model(fmt, seed=b"a").data
        assert build_model(fmt, seed=b"a").data != build_model(fmt, seed=b"b").data
    shapes = {tuple(np.round(_load(build_glb(seed=bytes([i])).data, "glb").extents, 3)) for i in range(5)}
    assert len(shapes) == 5


@pytest.mark.parametrize("fmt", ["fbx", "usdz", "", "glb2", None])
def test_unknown_formats(fmt: object) -> None:
    with pytest.raises(UnsupportedFormat):
        build_model(fmt, seed=b"")  # type: ignore[arg-type]


@pytest.mark.parametrize("detail", [-1, 6, 2.0, True, "3"])
def test_bad_detail(detail: object) -> None:
    with pytest.raises(GeometryError):
        build_mesh(seed=b"", detail=detail)  # type: ignore[arg-type]


def test_format_names_are_case_insensitive() -> None:
    assert build_model(".GLB", seed=b"c").data == build_glb(seed=b"c").data
