"""The public API for plugin authors: one base class per plugin kind, and the data they exchange.

A plugin is a class with a registered ``name``, a docstring (its first line is what
``bench plugins`` shows) and a ``Params`` model that declares its parameters with types and
defaults. The host validates the YAML's ``params`` against ``Params`` and passes the result
to ``__init__``. Built-in plugins use exactly this API.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # torch is imported only where a model is built
    import torch

#: Columns of ``Keypoints.geometry``, as OpenCV's ``cv2.KeyPoint`` names them.
GEOMETRY_COLUMNS: tuple[str, ...] = ("x", "y", "size", "angle", "response", "octave")


class Params(BaseModel):
    """Base of every plugin's parameters: typed, immutable, unknown names rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ComponentSpec(BaseModel):
    """A plugin nested in another plugin's parameters: ``{name: fast, params: {threshold: 10}}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


def component(kind: str, default: str | None, description: str = "", **default_params: Any) -> Any:
    """Declare a parameter that is itself a plugin of ``kind`` (e.g. an extractor's detector).

    The host validates the nested spec against that kind's registry, fills in its defaults, and
    passes the built plugin to ``__init__``, where it becomes an attribute of the same name.
    ``default=None`` makes the component optional (the attribute is then None).
    """
    spec = None if default is None else ComponentSpec(name=default, params=default_params)
    return Field(spec, description=description or f"a {kind} plugin", json_schema_extra={"plugin_kind": kind})


def component_fields(params_model: type[BaseModel]) -> dict[str, str]:
    """The parameters of a Params model that are nested plugins: field name → plugin kind."""
    found = {}
    for name, info in params_model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and "plugin_kind" in extra:
            found[name] = str(extra["plugin_kind"])
    return found


class Plugin:
    """Base of all plugin kinds."""

    #: The kind of plugin: set by each base class below, never by a plugin.
    kind: ClassVar[str] = ""
    #: The name used in experiment YAML (``extractor: {name: orb}``).
    name: ClassVar[str] = ""
    #: Declared parameters; subclasses override with their own ``Params`` subclass.
    Params: ClassVar[type[Params]] = Params
    #: Valid, cheap parameters for smoke tests; needed only when a parameter has no default.
    example_params: ClassVar[dict[str, Any]] = {}

    def __init__(self, params: Params | None = None, **components: Plugin | None):
        self.params = params if params is not None else type(self).Params()
        for name, built in components.items():  # nested plugins, built by the host
            setattr(self, name, built)

    @classmethod
    def summary(cls) -> str:
        """The first paragraph of the class docstring, on one line."""
        paragraph = (cls.__doc__ or "").strip().split("\n\n")[0]
        return " ".join(line.strip() for line in paragraph.splitlines())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------


@dataclass
class ImageSet:
    """Images with integer labels, as a dataset plugin delivers them.

    ``images`` may be an array ``[n, h, w(, c)]`` or any sequence that returns one image per
    index (so a file-backed dataset can load lazily). ``subset`` optionally marks predefined
    splits per item (``"train"``, ``"val"``, ``"test"``); the official test split of a data set
    is then used as the test split. ``fingerprint`` identifies the content, for caching.
    """

    images: Sequence[np.ndarray]
    labels: np.ndarray
    class_names: list[str]
    ids: Sequence[str]
    fingerprint: str
    subset: np.ndarray | None = None
    #: Items the dataset left out, with the reason (unreadable file, missing file, ...): every
    #: run lists them in its results and on stderr.
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if len(self.images) != len(self.labels) or len(self.ids) != len(self.labels):
            raise ValueError(
                f"ImageSet: {len(self.images)} images, {len(self.labels)} labels and "
                f"{len(self.ids)} ids; they must be equally many"
            )


class Dataset(Plugin):
    """A source of labelled images."""

    kind = "dataset"

    def load(self) -> ImageSet:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# Transforms (preprocessing; augmentation uses the same interface with the rng)
# --------------------------------------------------------------------------------------------


class Transform(Plugin):
    """An image → image function. Deterministic transforms ignore ``rng``."""

    kind = "transform"
    #: False for random transforms (augmentation): each image then gets a generator seeded by
    #: (run seed, item index), so results do not depend on worker count or order.
    deterministic: ClassVar[bool] = True

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# Extractors
# --------------------------------------------------------------------------------------------


@dataclass
class Keypoints:
    """Local features of one image.

    ``geometry`` is float32 ``[n, 6]`` with the columns of ``GEOMETRY_COLUMNS``; ``descriptors``
    is ``[n, d]``: uint8 packed bits for binary descriptors (ORB: 32 bytes), float32 otherwise.
    """

    geometry: np.ndarray
    descriptors: np.ndarray
    #: Keypoints the detector found before the descriptor dropped any (FREAK and BRIEF drop
    #: keypoints near the border or too large); None when nothing was dropped.
    detected: int | None = None

    def __len__(self) -> int:
        return len(self.geometry)


DescriptorType = Literal["binary", "float"]


class Extractor(Plugin):
    """Finds keypoints in a uint8 image and describes them.

    The host guarantees ``extract`` receives uint8 images (it converts float and 16-bit images
    and reports that it did), so an extractor never silently sees an image it cannot use.
    """

    kind = "extractor"
    #: ``"binary"``: descriptors are packed bits (uint8); ``"float"``: real-valued (float32).
    descriptor_type: ClassVar[DescriptorType] = "binary"

    def descriptor_size(self) -> int:
        """Descriptor width: bytes for binary descriptors, floats for float ones."""
        raise NotImplementedError

    def extract(self, image: np.ndarray) -> Keypoints:
        raise NotImplementedError

    def empty(self) -> Keypoints:
        """Keypoints of an image in which nothing was found."""
        dtype = np.uint8 if self.descriptor_type == "binary" else np.float32
        return Keypoints(
            np.zeros((0, len(GEOMETRY_COLUMNS)), np.float32),
            np.zeros((0, self.descriptor_size()), dtype),
        )

    def from_opencv(self, keypoints: Sequence[Any] | None, descriptors: np.ndarray | None) -> Keypoints:
        """Keypoints from what OpenCV returns.

        OpenCV 4.x returns ``None`` when nothing was found, 5.x an empty array; both become
        an empty ``Keypoints``. Descriptors are cast to this extractor's declared type.
        """
        if not keypoints or descriptors is None or len(descriptors) == 0:
            return self.empty()
        dtype = np.uint8 if self.descriptor_type == "binary" else np.float32
        return Keypoints(geometry_from_opencv(keypoints), np.ascontiguousarray(descriptors, dtype=dtype))


# --------------------------------------------------------------------------------------------
# Detectors (keypoints without descriptors, for extractors that describe given keypoints)
# --------------------------------------------------------------------------------------------


class Detector(Plugin):
    """Finds keypoints in a uint8 image.

    ``detect`` returns float32 geometry ``[n, 6]`` (``GEOMETRY_COLUMNS``), so a detector need
    not be an OpenCV one; ``keypoints_to_opencv`` converts for OpenCV descriptors.
    """

    kind = "detector"

    def detect(self, image: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _octave(packed: int) -> int:
    """The pyramid octave of an OpenCV keypoint. SIFT packs octave, layer and scale into one int
    (octave in the low byte, signed: -1 is the upsampled first octave); the low byte, sign-
    extended, is the octave for every detector (the others store small octaves as they are)."""
    octave = packed & 0xFF
    return octave - 256 if octave >= 128 else octave


def geometry_from_opencv(keypoints: Sequence[Any] | None) -> np.ndarray:
    """OpenCV keypoints → float32 ``[n, 6]`` geometry (``None`` and empty alike)."""
    if not keypoints:
        return np.zeros((0, len(GEOMETRY_COLUMNS)), np.float32)
    return np.array([(k.pt[0], k.pt[1], k.size, k.angle, k.response, _octave(k.octave)) for k in keypoints],
                    dtype=np.float32).reshape(-1, len(GEOMETRY_COLUMNS))


def keypoints_to_opencv(geometry: np.ndarray) -> list[Any]:
    """float32 ``[n, 6]`` geometry → a list of ``cv2.KeyPoint``."""
    import cv2

    return [cv2.KeyPoint(float(x), float(y), float(size), float(angle), float(response), int(octave))
            for x, y, size, angle, response, octave in geometry]


# --------------------------------------------------------------------------------------------
# Orderings
# --------------------------------------------------------------------------------------------


class Ordering(Plugin):
    """Decides the order in which an image's keypoints are fed to a sequence model."""

    kind = "ordering"
    #: True when ``order`` needs the image's (height, width), passed as ``shape=``.
    needs_shape: ClassVar[bool] = False

    def order(self, geometry: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A permutation of ``range(len(geometry))``; the first ``max_len`` are kept."""
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


class Model(Plugin):
    """Builds a classifier of token sequences.

    The host injects the token width and the number of classes. The built module is called as
    ``module(tokens, lengths)`` with float tokens ``[batch, length, input_dim]`` (zero-padded)
    and int64 lengths ``[batch]`` (each ≥ 1), and returns logits ``[batch, num_classes]``.
    """

    kind = "model"

    def build(self, input_dim: int, num_classes: int) -> torch.nn.Module:
        raise NotImplementedError


class Estimator(Model):
    """A model that trains itself, without bench's torch trainer (scikit-learn, say).

    It gets the sequences as numpy (``sequences.tokens(rows)`` gives float tokens and lengths)
    and the rows and labels of its training and validation items.
    """

    def build(self, input_dim: int, num_classes: int) -> Any:
        raise TypeError(f"{type(self).__name__} is an Estimator: bench calls fit/predict, not build")

    def fit(self, sequences: Any, train_rows: np.ndarray, train_labels: np.ndarray, val_rows: np.ndarray,
            val_labels: np.ndarray, seed: int) -> list[dict[str, float]]:
        """Train; return the history (one dict per epoch or stage, with ``val_accuracy``)."""
        raise NotImplementedError

    def predict(self, sequences: Any, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# Balancers
# --------------------------------------------------------------------------------------------


class Balancer(Plugin):
    """Counters class imbalance in training: loss weights, a resampled epoch, or both."""

    kind = "balancer"

    def loss_weights(self, labels: np.ndarray, num_classes: int) -> np.ndarray | None:
        """Per-class weights for the loss, or None for an unweighted loss."""
        return None

    def epoch_indices(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Indices into the training set for one epoch, in the order they are visited."""
        return rng.permutation(len(labels))

    def augmented_copies(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
        """Training items to add once more as augmented copies (indices into ``labels``), or None.

        The host extracts each copy once (through the experiment's ``augment`` steps, or a
        default warp and contrast change), stores it, and adds it to the training set.
        """
        return None


# --------------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------------


@dataclass
class RunTask:
    """Everything a worker needs to run one point of a sweep (picklable, plain data)."""

    index: int
    config: dict[str, Any]  # the resolved ExperimentConfig, as JSON-compatible data
    results_dir: str
    rerun: bool = False
    quiet: bool = True
    cache_dir: str | None = None
    no_cache: bool = False
    extraction_workers: int | None = None
    torch_threads: int | None = None


class Executor(Plugin):
    """Runs the points of a sweep: here, in a process pool, or on a cluster.

    ``map`` yields one result dict per task (in completion order) and must not stop at a
    failed run: ``benchmark.execution.execute_task`` already turns failures into results.
    """

    kind = "executor"

    @property
    def parallel(self) -> int:
        """Runs at once on this machine (the host divides the cores among them); 0: elsewhere."""
        return 1

    def map(self, tasks: list[RunTask]) -> Iterator[dict[str, Any]]:
        raise NotImplementedError


#: The plugin kinds, by the name the registries, CLI and hooks use for them.
PLUGIN_KINDS: dict[str, type[Plugin]] = {
    "dataset": Dataset,
    "transform": Transform,
    "detector": Detector,
    "extractor": Extractor,
    "ordering": Ordering,
    "model": Model,
    "balancer": Balancer,
    "executor": Executor,
}
