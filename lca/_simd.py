"""Four-lane float64 vectors for the numba kernels.

numba ships with LLVM's SLP vectoriser switched off (it miscompiled code, numba
PR #8852), so four class probabilities held in four scalars are multiplied
one by one. These intrinsics give the E-step an explicit ``<4 x double>``
value instead: each operation is one LLVM vector instruction (one AVX
register; two SSE or NEON registers where AVX is absent), and lane ``l`` of
every result is the IEEE result of the scalar operation on lane ``l``, so a
kernel gives the same bits as its scalar form.

Arrays passed to these functions must be C-contiguous float64 arrays (and
writable, for the two that store); the offset counts elements from the
array's first one and is not bounds-checked (as numba's own indexing is
not).

numba's on-disk cache keys a function on its own source file only: after
editing this module, delete the cached kernels (``find lca -name '*.nb*'
-delete``); an installed package is rewritten as a whole and is not affected.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, models, register_model

_VEC = ir.VectorType(ir.DoubleType(), 4)
_I32 = ir.IntType(32)


class Vec4Type(types.Type):
    """numba type of a vector of four float64 lanes."""

    def __init__(self):
        super().__init__(name="Vec4")


vec4 = Vec4Type()


@register_model(Vec4Type)
class _Vec4Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VEC)


def _is_f64_c_array(arr, writable: bool = False) -> bool:
    return (
        isinstance(arr, types.Array)
        and arr.dtype == types.float64
        and arr.layout == "C"
        and (arr.mutable or not writable)
    )


def _pointer(context, builder, arytype, ary, offtype, offset):
    """Address of element ``offset`` of a C-contiguous array, as a vector pointer."""
    data = context.make_array(arytype)(context, builder, ary).data
    index = context.cast(builder, offset, offtype, types.intp)
    return builder.bitcast(builder.gep(data, [index]), _VEC.as_pointer())


@intrinsic
def load4(typingctx, arr, offset):
    """``arr.flat[offset:offset + 4]`` as a vector."""
    if not (_is_f64_c_array(arr) and isinstance(offset, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        ptr = _pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        return builder.load(ptr, align=8)

    return vec4(arr, offset), codegen


@intrinsic
def store4(typingctx, arr, offset, v):
    """``arr.flat[offset:offset + 4] = v``."""
    if not (_is_f64_c_array(arr, True) and isinstance(offset, types.Integer) and v == vec4):
        return None

    def codegen(context, builder, sig, args):
        ptr = _pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        builder.store(args[2], ptr, align=8)
        return context.get_dummy_value()

    return types.none(arr, offset, v), codegen


@intrinsic
def mul_load4(typingctx, v, arr, offset):
    """``v * arr.flat[offset:offset + 4]``, lane by lane."""
    if not (v == vec4 and _is_f64_c_array(arr) and isinstance(offset, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        ptr = _pointer(context, builder, sig.args[1], args[1], sig.args[2], args[2])
        return builder.fmul(args[0], builder.load(ptr, align=8))

    return vec4(v, arr, offset), codegen


@intrinsic
def add_store4(typingctx, arr, offset, v):
    """``arr.flat[offset:offset + 4] += v``, lane by lane."""
    if not (_is_f64_c_array(arr, True) and isinstance(offset, types.Integer) and v == vec4):
        return None

    def codegen(context, builder, sig, args):
        ptr = _pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        builder.store(builder.fadd(builder.load(ptr, align=8), args[2]), ptr, align=8)
        return context.get_dummy_value()

    return types.none(arr, offset, v), codegen


@intrinsic
def scale4(typingctx, v, s):
    """``v * s`` for a scalar ``s``, lane by lane."""
    if not (v == vec4 and isinstance(s, types.Float)):
        return None

    def codegen(context, builder, sig, args):
        x = context.cast(builder, args[1], sig.args[1], types.float64)
        splat = builder.insert_element(ir.Constant(_VEC, ir.Undefined), x, _I32(0))
        splat = builder.shuffle_vector(splat, splat, ir.Constant(ir.VectorType(_I32, 4), [0] * 4))
        return builder.fmul(args[0], splat)

    return vec4(v, s), codegen


@intrinsic
def sum4(typingctx, v):
    """``(v[0] + v[1]) + (v[2] + v[3])``: a fixed order, so fixed bits."""
    if v != vec4:
        return None

    def codegen(context, builder, sig, args):
        lanes = [builder.extract_element(args[0], _I32(i)) for i in range(4)]
        return builder.fadd(builder.fadd(lanes[0], lanes[1]), builder.fadd(lanes[2], lanes[3]))

    return types.float64(v), codegen
