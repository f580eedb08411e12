"""vkstyle: neural style transfer on any Vulkan device, from Python.

A ctypes binding over the shared libvkstyle (no compiled extension); images are numpy uint8
arrays, height x width x 3 (RGB) or 4 (RGBA; alpha ignored, written as 255).

    import numpy as np, vkstyle
    ctx = vkstyle.Context()                       # the device: vkstyle's default choice
    model = vkstyle.Model(ctx, "styles9")         # a path, or a model name (see Model)
    session = vkstyle.Session(model, width, height, styles={"udnie": 0.7, "wave": 0.3})
    out = session.run(rgb)                        # a new array, same shape as rgb

Failures of the engine raise vkstyle.Error with the engine's one-line message. The library is
found at $VKSTYLE_LIBRARY, else next to this file, else in the installed library folder, else
by the dynamic linker (LD_LIBRARY_PATH, ld.so.cache).
"""
import ctypes
import ctypes.util
import glob
import os
import weakref

import numpy as np

__all__ = ["Context", "Model", "Session", "TensorSession", "Error", "version"]

_HERE = os.path.dirname(os.path.abspath(__file__))
try:
    from . import _install  # written by cmake --install: the installed library and models
except ImportError:
    _install = None

# VKS_STATUS_LIST in vkstyle.h, in order (tests/python/test_binding.py checks they agree).
STATUS_NAMES = (
    "VKS_OK", "VKS_ERR_INVALID_ARGUMENT", "VKS_ERR_NO_DEVICE", "VKS_ERR_VULKAN",
    "VKS_ERR_OUT_OF_HOST_MEMORY", "VKS_ERR_OUT_OF_DEVICE_MEMORY", "VKS_ERR_DEVICE_LOST",
    "VKS_ERR_UNSUPPORTED", "VKS_ERR_IO", "VKS_ERR_MODEL_FORMAT", "VKS_ERR_SHAPE", "VKS_ERR_STYLE",
    "VKS_ERR_TOO_LARGE",
)
_PRECISIONS = ("fp32", "fp16", "auto")  # vks_precision_t
_TILING = ("never", "auto", "always")  # vks_tiling_t
_TENSOR_F32 = 3  # vks_pixel_format_t: VKS_TENSOR_F32


def _candidates():
    env = os.environ.get("VKSTYLE_LIBRARY")
    if env:
        return [env]  # explicit: no fallback that could load another build
    found = [os.path.join(_HERE, "libvkstyle.so")]
    if _install is not None:
        libdir = os.path.normpath(os.path.join(_HERE, _install.LIBDIR))
        found += [os.path.join(libdir, "libvkstyle.so")]
        found += sorted(glob.glob(os.path.join(libdir, "libvkstyle.so.*")), reverse=True)
    found.append("libvkstyle.so")
    name = ctypes.util.find_library("vkstyle")
    if name:
        found.append(name)
    return found


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (missing)")
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{path} ({e})")
    raise ImportError("vkstyle: cannot load libvkstyle.so; tried " + "; ".join(tried) +
                      ". Set VKSTYLE_LIBRARY to its path (a build makes build/python/libvkstyle.so, "
                      "or build/engine/libvkstyle.so with -DBUILD_SHARED_LIBS=ON)")


_lib = _load()
_p = ctypes.c_void_p
_u32 = ctypes.c_uint32


class _ContextOptions(ctypes.Structure):
    _fields_ = [("device", ctypes.c_char_p), ("validation", ctypes.c_int),
                ("quiet_validation", ctypes.c_int), ("cache_dir", ctypes.c_char_p),
                ("instance_extensions", ctypes.POINTER(ctypes.c_char_p)),
                ("instance_extension_count", _u32), ("swapchain", ctypes.c_int),
                ("conv_storage_weights", ctypes.c_int), ("max_binding_bytes", ctypes.c_uint64),
                ("max_workgroups", _u32)]


class _DeviceInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * 256), ("type", ctypes.c_char * 16),
                ("driver", ctypes.c_char * 256), ("api_version", _u32), ("vendor_id", _u32),
                ("device_id", _u32), ("subgroup_size", _u32), ("shared_memory", _u32),
                ("max_binding_bytes", ctypes.c_uint64), ("max_push_constants", _u32),
                ("fp16", ctypes.c_int), ("int8", ctypes.c_int), ("timestamps", ctypes.c_int),
                ("workarounds", ctypes.c_char * 64), ("max_allocation", ctypes.c_uint64),
                ("heap_count", _u32), ("heap_size", ctypes.c_uint64 * 16),
                ("heap_device_local", ctypes.c_int * 16)]


class _SessionOptions(ctypes.Structure):
    _fields_ = [("input", ctypes.c_int), ("output", ctypes.c_int), ("precision", ctypes.c_int),
                ("max_memory", ctypes.c_uint64), ("tiling", ctypes.c_int),
                ("progress", ctypes.c_void_p), ("progress_user", ctypes.c_void_p),
                ("tune", ctypes.c_int), ("tune_progress", ctypes.c_void_p)]


def _declare(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype, f.argtypes = restype, list(argtypes)


for _name, _res, _args in (
        ("vks_version_string", ctypes.c_char_p, ()),
        ("vks_status_str", ctypes.c_char_p, (ctypes.c_int,)),
        ("vks_last_error", ctypes.c_char_p, ()),
        ("vks_context_create", ctypes.c_int, (ctypes.POINTER(_ContextOptions), ctypes.POINTER(_p))),
        ("vks_context_destroy", None, (_p,)),
        ("vks_context_validation_messages", _u32, (_p,)),
        ("vks_context_device_info", None, (_p, ctypes.POINTER(_DeviceInfo))),
        ("vks_model_load", ctypes.c_int, (_p, ctypes.c_char_p, ctypes.POINTER(_p))),
        ("vks_model_load_memory", ctypes.c_int, (_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(_p))),
        ("vks_model_destroy", None, (_p,)),
        ("vks_model_style_count", _u32, (_p,)),
        ("vks_model_style_name", ctypes.c_char_p, (_p, _u32)),
        ("vks_model_name", ctypes.c_char_p, (_p,)),
        ("vks_session_create_ex", ctypes.c_int, (_p, _u32, _u32, ctypes.POINTER(_SessionOptions), ctypes.POINTER(_p))),
        ("vks_session_destroy", None, (_p,)),
        ("vks_session_set_style_weights", ctypes.c_int, (_p, ctypes.POINTER(ctypes.c_float), _u32)),
        ("vks_session_run", ctypes.c_int, (_p, _p, _p, _u32)),
        ("vks_session_set_stabilize", ctypes.c_int, (_p, ctypes.c_float)),
        ("vks_session_stabilize", ctypes.c_float, (_p,)),
        ("vks_session_reset_stabilize", ctypes.c_int, (_p,)),
        ("vks_session_precision", ctypes.c_int, (_p,)),
        ("vks_session_tiles", _u32, (_p,)),
        ("vks_session_last_gpu_ms", ctypes.c_int, (_p, ctypes.POINTER(ctypes.c_double))),
        ("vks_session_run_raw", ctypes.c_int, (_p, _p, _p)),
        ("vks_session_input_bytes", ctypes.c_size_t, (_p,)),
        ("vks_session_output_shape", None, (_p, ctypes.POINTER(_u32), ctypes.POINTER(_u32), ctypes.POINTER(_u32)))):
    _declare(_name, _res, *_args)


class Error(RuntimeError):
    """A failure reported by the engine: str() is its message, .status the VKS_* name."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = STATUS_NAMES[status] if 0 <= status < len(STATUS_NAMES) else f"status {status}"


def _check(status):
    if status != 0:
        msg = _lib.vks_last_error().decode(errors="replace") or _lib.vks_status_str(status).decode()
        raise Error(status, msg)


def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _lib.vks_version_string().decode()


__version__ = version()


class _Handle:
    """An engine object. The engine needs a context's models, and a model's sessions, destroyed
    before it; children keep their parent alive, and a parent whose close() comes first (an
    explicit close, or the garbage collector finalizing a cycle in any order) is destroyed when
    its last child is."""
    _destroy = None
    _handle = None
    _parent = None

    def __init__(self, parent=None):
        self._children = weakref.WeakSet()  # for an explicit close()
        self._live = 0  # children whose engine objects exist
        self._closing = False
        if parent is not None:
            self._parent = parent
            parent._children.add(self)

    def _created(self, handle):
        self._handle = handle
        if self._parent is not None:
            self._parent._live += 1

    def close(self):
        """Free the engine object now, its sessions/models first (also done when the object
        is collected)."""
        for child in list(getattr(self, "_children", ())):
            child.close()
        self._closing = True
        self._release()

    def _release(self):
        if self._handle and self._closing and self._live == 0:
            type(self)._destroy(self._handle)
            self._handle = None
            if self._parent is not None:
                self._parent._live -= 1
                self._parent._release()

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _h(self):
        if not self._handle or self._closing:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._handle


class Context(_Handle):
    """A Vulkan device. device: an index or a name substring (None: $VKSTYLE_DEVICE, else a
    discrete GPU, then integrated, virtual, CPU); validation: the Khronos validation layer."""
    _destroy = staticmethod(_lib.vks_context_destroy)

    def __init__(self, device=None, validation=False, cache_dir=None):
        super().__init__()
        opts = _ContextOptions(device=None if device is None else str(device).encode(),
                               validation=int(bool(validation)),
                               cache_dir=None if cache_dir is None else os.fsencode(cache_dir))
        h = _p()
        _check(_lib.vks_context_create(ctypes.byref(opts), ctypes.byref(h)))
        self._created(h.value)

    @property
    def device(self):
        """The device in use: name, type, driver, vulkan (version string), fp16 (bool)."""
        d = _DeviceInfo()
        _lib.vks_context_device_info(self._h(), ctypes.byref(d))
        v = d.api_version
        return {"name": d.name.decode(), "type": d.type.decode(), "driver": d.driver.decode(),
                "vulkan": f"{(v >> 22) & 0x7F}.{(v >> 12) & 0x3FF}.{v & 0xFFF}", "fp16": bool(d.fp16)}

    @property
    def validation_messages(self):
        """Validation warnings and errors seen so far (0 without validation)."""
        return _lib.vks_context_validation_messages(self._h())


def _find_model(name):
    if os.sep in name or name.endswith(".safetensors"):
        return name
    dirs = [os.environ.get("VKSTYLE_MODELS", "")]
    if _install is not None:
        dirs.append(os.path.normpath(os.path.join(_HERE, _install.MODELS)))
    dirs.append(os.path.normpath(os.path.join(_HERE, "..", "..", "models")))  # the source tree
    for d in filter(None, dirs):
        path = os.path.join(d, name + ".safetensors")
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"no model named '{name}' (looked in {', '.join(filter(None, dirs))}; "
                            "pass a path or set VKSTYLE_MODELS)")


class Model(_Handle):
    """A model's weights on the context's device. source: a .safetensors path, a model name
    (looked up in $VKSTYLE_MODELS, the installed models, the source tree's models/), or bytes."""
    _destroy = staticmethod(_lib.vks_model_destroy)

    def __init__(self, context, source):
        super().__init__(context)
        self.context = context  # the context outlives the model
        h = _p()
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            _check(_lib.vks_model_load_memory(context._h(), data, len(data), ctypes.byref(h)))
        else:
            path = _find_model(os.fspath(source))
            _check(_lib.vks_model_load(context._h(), os.fsencode(path), ctypes.byref(h)))
        self._created(h.value)

    @property
    def name(self):
        return _lib.vks_model_name(self._h()).decode()

    @property
    def styles(self):
        """The style names, in index order (one for a single-style model)."""
        h = self._h()
        return [_lib.vks_model_style_name(h, i).decode() for i in range(_lib.vks_model_style_count(h))]


class Session(_Handle):
    """Runs a model on images of exactly width x height. precision: "fp32" (default), "fp16"
    (float16 activations; the device needs shaderFloat16) or "auto"; styles: see style_weights;
    max_memory: device memory to use in bytes (None: 90% of the device's); tiling: what a size
    that does not fit in one piece does, "never" (raise Error VKS_ERR_TOO_LARGE naming the size
    that fits), "auto" (run in tiles, the same result) or "always"."""
    _destroy = staticmethod(_lib.vks_session_destroy)

    def __init__(self, model, width, height, precision="fp32", styles=None, max_memory=None, tiling="never"):
        if precision not in _PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(_PRECISIONS)}, not {precision!r}")
        if tiling not in _TILING:
            raise ValueError(f"tiling must be one of {', '.join(_TILING)}, not {tiling!r}")
        super().__init__(model)
        self.model = model  # the model outlives the session
        self.width, self.height = int(width), int(height)
        opts = _SessionOptions(precision=_PRECISIONS.index(precision), max_memory=int(max_memory or 0),
                               tiling=_TILING.index(tiling))
        h = _p()
        _check(_lib.vks_session_create_ex(model._h(), self.width, self.height, ctypes.byref(opts), ctypes.byref(h)))
        self._created(h.value)
        self._weights = [1.0] + [0.0] * (len(model.styles) - 1)
        if styles is not None:
            self.style_weights = styles

    @property
    def precision(self):
        """The precision the session runs at: "fp32" or "fp16" ("auto" resolved)."""
        return _PRECISIONS[_lib.vks_session_precision(self._h())]

    @property
    def style_weights(self):
        """One weight per style of the model (default: style 0). Set a list of floats, or a dict
        {name or index: weight} (other styles 0): the styles' normalization parameters are mixed
        by these weights, e.g. {"udnie": 0.7, "wave": 0.3}."""
        return list(self._weights)

    @style_weights.setter
    def style_weights(self, weights):
        names = self.model.styles
        if isinstance(weights, dict):
            w = [0.0] * len(names)
            for key, value in weights.items():
                i = names.index(key) if key in names else key
                if not isinstance(i, int) or not 0 <= i < len(names):
                    raise Error(STATUS_NAMES.index("VKS_ERR_STYLE"),
                                f"unknown style {key!r}; this model has: {', '.join(names)}")
                w[i] += float(value)
        else:
            w = [float(x) for x in weights]
        arr = (ctypes.c_float * max(len(w), 1))(*w)
        _check(_lib.vks_session_set_style_weights(self._h(), arr, len(w)))
        self._weights = w + [0.0] * (len(names) - len(w))

    def run(self, image):
        """Stylize image, a uint8 array of shape (height, width, 3 or 4); returns a new array of
        the same shape (alpha 255)."""
        a = np.asarray(image)
        if a.dtype != np.uint8:
            raise TypeError(f"image must be a uint8 array, not {a.dtype}")
        if a.ndim != 3 or a.shape[:2] != (self.height, self.width) or a.shape[2] not in (3, 4):
            raise ValueError(f"image must have shape ({self.height}, {self.width}, 3 or 4), not {a.shape}")
        a = np.ascontiguousarray(a)
        out = np.empty_like(a)
        _check(_lib.vks_session_run(self._h(), a.ctypes.data, out.ctypes.data, a.shape[2]))
        return out

    @property
    def stabilize(self):
        """Temporal stabilization for video, 0 (off, the default: each run stands alone) .. 1
        (strongest): each run is the next frame; see vks_session_set_stabilize."""
        return _lib.vks_session_stabilize(self._h())

    @stabilize.setter
    def stabilize(self, strength):
        _check(_lib.vks_session_set_stabilize(self._h(), float(strength)))

    def reset_stabilize(self):
        """Forget the previous frames (a new scene or source)."""
        _check(_lib.vks_session_reset_stabilize(self._h()))

    @property
    def tiles(self):
        """Tiles a run takes: 0 when the session runs in one piece."""
        return _lib.vks_session_tiles(self._h())

    @property
    def last_gpu_ms(self):
        """GPU time of the last run in ms (None where the device has no timestamps)."""
        ms = ctypes.c_double()
        return ms.value if _lib.vks_session_last_gpu_ms(self._h(), ctypes.byref(ms)) == 0 else None


class TensorSession(_Handle):
    """Runs a model on float32 tensors of exactly width x height, with no pixel conventions: the
    input is [C, height, width] (C the model's input channels) and run() returns the last layer's
    output as is, [C', H', W'] (output_shape), unclamped. For networks converted with
    `vkstyle convert --tensor-io` (e.g. the ONNX conformance tests). float32 activations; no
    tiling, style mixing, stabilization or profiling."""
    _destroy = staticmethod(_lib.vks_session_destroy)

    def __init__(self, model, width, height, max_memory=None):
        super().__init__(model)
        self.model = model  # the model outlives the session
        self.width, self.height = int(width), int(height)
        opts = _SessionOptions(input=_TENSOR_F32, output=_TENSOR_F32, precision=_PRECISIONS.index("fp32"),
                               max_memory=int(max_memory or 0), tiling=_TILING.index("never"))
        h = _p()
        _check(_lib.vks_session_create_ex(model._h(), self.width, self.height, ctypes.byref(opts), ctypes.byref(h)))
        self._created(h.value)
        self.input_channels = _lib.vks_session_input_bytes(h.value) // (4 * self.width * self.height)
        c, oh, ow = _u32(), _u32(), _u32()
        _lib.vks_session_output_shape(h.value, ctypes.byref(c), ctypes.byref(oh), ctypes.byref(ow))
        self.output_shape = (c.value, oh.value, ow.value)

    def run(self, x):
        """x: an array of shape (input_channels, height, width), converted to float32; returns a
        new float32 array of shape output_shape."""
        a = np.ascontiguousarray(x, dtype=np.float32)
        want = (self.input_channels, self.height, self.width)
        if a.shape != want:
            raise ValueError(f"input must have shape {want}, not {a.shape}")
        out = np.empty(self.output_shape, np.float32)
        _check(_lib.vks_session_run_raw(self._h(), a.ctypes.data, out.ctypes.data))
        return out
