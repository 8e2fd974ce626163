"""Built-in extractors: OpenCV's descriptors, with their own detectors or paired with any detector.

Defaults are chosen for small images (Fashion-MNIST upscaled 4× to 112×112); the docstrings
say where they differ from OpenCV's and why. Descriptor-only extractors take a ``detector``
(any registered detector plugin, default ``orb``):

    extractor: {name: freak, params: {detector: {name: fast, params: {threshold: 10}}}}
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from benchmark import hookimpl
from benchmark.api import (
    ComponentSpec,
    Detector,
    Extractor,
    Keypoints,
    Params,
    component,
    keypoints_to_opencv,
)
from benchmark.opencv import LazyOpenCV, factory, strongest, to_bgr, to_gray


class OpenCVExtractor(LazyOpenCV, Extractor):
    """Shared by the OpenCV extractors.

    With ``detector`` None the extractor's own detector runs (``detectAndCompute``) and keeps
    the ``max_keypoints`` strongest; with a detector plugin, its keypoints are described
    (``compute``), and the ones the descriptor drops are counted.
    """

    #: LUCID needs three channels; every other OpenCV descriptor works on gray images.
    needs_color: ClassVar[bool] = False
    detector: Detector | None = None

    class Params(Params):
        max_keypoints: int | None = Field(64, ge=1, description="own detector: keep the strongest N")

    def descriptor_size(self) -> int:
        return int(self.opencv().descriptorSize())

    def extract(self, image: np.ndarray) -> Keypoints:
        source = to_bgr(image) if self.needs_color else to_gray(image)
        if self.detector is None:
            keypoints, descriptors = self.opencv().detectAndCompute(source, None)
            found = self.from_opencv(keypoints, descriptors)
            keep = strongest(found.geometry, self.params.max_keypoints)
            return Keypoints(found.geometry[keep], found.descriptors[keep])
        geometry = self.detector.detect(to_gray(image))
        if len(geometry) == 0:
            return self.empty()
        keypoints, descriptors = self.opencv().compute(source, keypoints_to_opencv(geometry))
        described = self.from_opencv(keypoints, descriptors)
        described.detected = len(geometry)
        return described


def _with_detector(default: str | None, **default_params: Any) -> Any:
    help_text = "keypoints from this detector plugin" + ("" if default else "; None: the extractor's own")
    return component("detector", default, help_text, **default_params)


# -- with their own detectors ----------------------------------------------------------------


class ORB(OpenCVExtractor):
    """ORB: oriented FAST keypoints with rotated BRIEF binary descriptors (32 bytes).

    Defaults differ from OpenCV's where small images need it: with edge/patch 31 and FAST 20,
    Fashion-MNIST upscaled 4× (112×112) leaves 14% of images without any keypoint; with
    edge/patch 15 and FAST 5, none (measured on 2,000 images).
    """

    name = "orb"
    descriptor_type = "binary"

    class Params(Params):
        n_features: int = Field(64, ge=1, description="maximum keypoints kept (best by score)")
        scale_factor: float = Field(1.2, gt=1.0, description="pyramid decimation ratio")
        n_levels: int = Field(8, ge=1, description="pyramid levels")
        edge_threshold: int = Field(15, ge=0, description="border where no keypoint is detected")
        first_level: int = Field(0, ge=0, description="pyramid level of the source image")
        wta_k: Literal[2, 3, 4] = Field(2, description="points compared per BRIEF element")
        score_type: Literal["harris", "fast"] = Field("harris", description="keypoint ranking score")
        patch_size: int = Field(15, ge=2, description="size of the oriented BRIEF patch")
        fast_threshold: int = Field(5, ge=0, description="FAST intensity threshold")
        detector: ComponentSpec | None = _with_detector(None)

        @property
        def max_keypoints(self) -> int:
            return self.n_features

    def create(self) -> Any:
        import cv2

        p = self.params
        return factory("ORB_create")(
            nfeatures=p.n_features, scaleFactor=p.scale_factor, nlevels=p.n_levels, edgeThreshold=p.edge_threshold,
            firstLevel=p.first_level, WTA_K=p.wta_k,
            scoreType=cv2.ORB_HARRIS_SCORE if p.score_type == "harris" else cv2.ORB_FAST_SCORE,
            patchSize=p.patch_size, fastThreshold=p.fast_threshold,
        )


class SIFT(OpenCVExtractor):
    """SIFT: difference-of-Gaussians keypoints, 128 float gradient histograms (tokenised as RootSIFT).

    Contrast threshold 0.02 instead of OpenCV's 0.04, which leaves small images sparse.
    """

    name = "sift"
    descriptor_type = "float"

    class Params(OpenCVExtractor.Params):
        n_octave_layers: int = Field(3, ge=1)
        contrast_threshold: float = Field(0.02, gt=0)
        edge_threshold: float = Field(10.0, gt=0)
        sigma: float = Field(1.6, gt=0)
        detector: ComponentSpec | None = _with_detector(None)

    def create(self) -> Any:
        p = self.params
        return factory("SIFT_create")(p.max_keypoints or 0, p.n_octave_layers, p.contrast_threshold,
                                      p.edge_threshold, p.sigma)


DIFFUSIVITY = {"pm_g1": 0, "pm_g2": 1, "weickert": 2, "charbonnier": 3}


class AKAZE(OpenCVExtractor):
    """AKAZE: nonlinear scale space, binary M-LDB descriptors (61 bytes = 486 bits).

    Threshold 0.0001 instead of OpenCV's 0.001, which leaves 8% of small images empty.
    """

    name = "akaze"
    descriptor_type = "binary"

    class Params(OpenCVExtractor.Params):
        threshold: float = Field(0.0001, gt=0, description="detector response threshold")
        n_octaves: int = Field(4, ge=1)
        n_octave_layers: int = Field(4, ge=1)
        diffusivity: Literal["pm_g1", "pm_g2", "weickert", "charbonnier"] = "pm_g2"

    def create(self) -> Any:
        p = self.params
        return factory("AKAZE_create")(threshold=p.threshold, nOctaves=p.n_octaves, nOctaveLayers=p.n_octave_layers,
                                       diffusivity=DIFFUSIVITY[p.diffusivity])


class BRISK(OpenCVExtractor):
    """BRISK: multi-scale AGAST keypoints, binary descriptors (64 bytes).

    Threshold 10 and 2 octaves instead of OpenCV's 30 and 3, which leave 16% of small images empty.
    """

    name = "brisk"
    descriptor_type = "binary"

    class Params(OpenCVExtractor.Params):
        threshold: int = Field(10, ge=0)
        octaves: int = Field(2, ge=0)
        pattern_scale: float = Field(1.0, gt=0)
        detector: ComponentSpec | None = _with_detector(None)

    def create(self) -> Any:
        p = self.params
        return factory("BRISK_create")(p.threshold, p.octaves, p.pattern_scale)


class KAZE(OpenCVExtractor):
    """KAZE: nonlinear scale space, 64 (or 128 extended) float descriptors. Slow (~150 images/s)."""

    name = "kaze"
    descriptor_type = "float"

    class Params(OpenCVExtractor.Params):
        extended: bool = Field(False, description="128 instead of 64 floats")
        upright: bool = Field(False, description="no orientation")
        threshold: float = Field(0.0005, gt=0)
        n_octaves: int = Field(4, ge=1)
        n_octave_layers: int = Field(4, ge=1)
        diffusivity: Literal["pm_g1", "pm_g2", "weickert", "charbonnier"] = "pm_g2"

    def create(self) -> Any:
        p = self.params
        return factory("KAZE_create")(extended=p.extended, upright=p.upright, threshold=p.threshold,
                                      nOctaves=p.n_octaves, nOctaveLayers=p.n_octave_layers,
                                      diffusivity=DIFFUSIVITY[p.diffusivity])


# -- descriptors of another detector's keypoints ---------------------------------------------


class DescriptorOnly(OpenCVExtractor):
    """Base of the descriptors that need a detector."""

    class Params(Params):
        detector: ComponentSpec = _with_detector("orb")


class BRIEF(DescriptorOnly):
    """BRIEF binary descriptors (16, 32 or 64 bytes). Drops keypoints within 28 px of the border."""

    name = "brief"
    descriptor_type = "binary"

    class Params(DescriptorOnly.Params):
        bytes: Literal[16, 32, 64] = 32
        use_orientation: bool = Field(True, description="steer by the detector's angle")

    def create(self) -> Any:
        return factory("BriefDescriptorExtractor_create")(self.params.bytes, self.params.use_orientation)


class FREAK(DescriptorOnly):
    """FREAK retina-inspired binary descriptors (64 bytes). Drops keypoints near the border and
    too large for the pattern; ``pattern_scale`` 11 instead of 22 keeps most on small images."""

    name = "freak"
    descriptor_type = "binary"

    class Params(DescriptorOnly.Params):
        orientation_normalized: bool = True
        scale_normalized: bool = True
        pattern_scale: float = Field(11.0, gt=0)
        n_octaves: int = Field(4, ge=1)

    def create(self) -> Any:
        p = self.params
        return factory("FREAK_create")(p.orientation_normalized, p.scale_normalized, p.pattern_scale, p.n_octaves)


class LATCH(DescriptorOnly):
    """LATCH: learned triplet binary descriptors (32 bytes by default). Drops border keypoints."""

    name = "latch"
    descriptor_type = "binary"

    class Params(DescriptorOnly.Params):
        bytes: Literal[1, 2, 4, 8, 16, 32, 64] = 32
        rotation_invariance: bool = True
        half_ssd_size: int = Field(3, ge=1)
        sigma: float = Field(2.0, ge=0)

    def create(self) -> Any:
        p = self.params
        return factory("LATCH_create")(p.bytes, p.rotation_invariance, p.half_ssd_size, p.sigma)


DAISY_NORMS = {"none": 100, "partial": 101, "full": 102, "sift": 103}


class DAISY(DescriptorOnly):
    """DAISY: dense-style float descriptors, (q_radius·q_theta + 1)·q_hist values (200 by default)."""

    name = "daisy"
    descriptor_type = "float"

    class Params(DescriptorOnly.Params):
        radius: float = Field(15.0, gt=0)
        q_radius: int = Field(3, ge=1)
        q_theta: int = Field(8, ge=1)
        q_hist: int = Field(8, ge=1)
        norm: Literal["none", "partial", "full", "sift"] = "none"
        use_orientation: bool = True

    def create(self) -> Any:
        p = self.params
        return factory("DAISY_create")(radius=p.radius, q_radius=p.q_radius, q_theta=p.q_theta, q_hist=p.q_hist,
                                       norm=DAISY_NORMS[p.norm], use_orientation=p.use_orientation)


class LUCID(DescriptorOnly):
    """LUCID: ranks of colour intensities in a patch ((2k+1)²·3 values); needs 3 channels, so a
    gray image is expanded to BGR. The ranks are tokenised as floats, not bits."""

    name = "lucid"
    descriptor_type = "float"
    needs_color = True

    class Params(DescriptorOnly.Params):
        lucid_kernel: int = Field(1, ge=1, description="patch half-size k")
        blur_kernel: int = Field(2, ge=1)

    def create(self) -> Any:
        return factory("LUCID_create")(self.params.lucid_kernel, self.params.blur_kernel)


BOOSTDESC_VARIANTS = {"bgm": 100, "bgm_hard": 101, "bgm_bilinear": 102, "binboost_64": 300,
                      "binboost_128": 301, "binboost_256": 302}


class BoostDesc(DescriptorOnly):
    """BoostDesc: boosted binary descriptors (BinBoost 256 bits by default). Slow (~85 images/s).

    ``scale_factor`` 0.75 is OpenCV's recommendation for ORB keypoints (6.25 for KAZE, 6.75 SIFT,
    1.5 FAST/BRISK)."""

    name = "boostdesc"
    descriptor_type = "binary"

    class Params(DescriptorOnly.Params):
        variant: Literal["bgm", "bgm_hard", "bgm_bilinear", "binboost_64", "binboost_128", "binboost_256"] = "binboost_256"
        use_scale_orientation: bool = True
        scale_factor: float = Field(0.75, gt=0)

    def create(self) -> Any:
        p = self.params
        return factory("BoostDesc_create")(BOOSTDESC_VARIANTS[p.variant], p.use_scale_orientation, p.scale_factor)


VGG_VARIANTS = {"vgg_120": 100, "vgg_80": 101, "vgg_64": 102, "vgg_48": 103}


class VGG(DescriptorOnly):
    """VGG: learned float descriptors (120 by default). Very slow (~20 images/s at 112×112).

    ``scale_factor`` 0.75 is OpenCV's recommendation for ORB keypoints."""

    name = "vgg"
    descriptor_type = "float"

    class Params(DescriptorOnly.Params):
        variant: Literal["vgg_120", "vgg_80", "vgg_64", "vgg_48"] = "vgg_120"
        sigma: float = Field(1.4, gt=0)
        normalize_image: bool = True
        use_scale_orientation: bool = True
        scale_factor: float = Field(0.75, gt=0)
        normalize_descriptor: bool = False

    def create(self) -> Any:
        p = self.params
        return factory("VGG_create")(VGG_VARIANTS[p.variant], p.sigma, p.normalize_image, p.use_scale_orientation,
                                     p.scale_factor, p.normalize_descriptor)


class BEBLID(DescriptorOnly):
    """BEBLID: boosted efficient binary descriptors (512 or 256 bits).

    ``scale_factor`` is required by OpenCV: 1.0 suits ORB keypoints (the default detector),
    5.0 FAST/AGAST/BRISK/AKAZE, 6.25 KAZE, 6.75 SIFT."""

    name = "beblid"
    descriptor_type = "binary"
    factory_name: ClassVar[str] = "BEBLID_create"
    #: OpenCV's n_bits enum values differ between the two: BEBLID 512 = 100, 256 = 101;
    #: TEBLID 256 = 102, 512 = 103.
    bit_codes: ClassVar[dict[int, int]] = {512: 100, 256: 101}

    class Params(DescriptorOnly.Params):
        scale_factor: float = Field(1.0, gt=0)
        bits: Literal[256, 512] = 512

    def create(self) -> Any:
        return factory(self.factory_name)(self.params.scale_factor, self.bit_codes[self.params.bits])


class TEBLID(BEBLID):
    """TEBLID: triplet-trained BEBLID, better matching at the same cost (256 or 512 bits)."""

    name = "teblid"
    factory_name = "TEBLID_create"
    bit_codes: ClassVar[dict[int, int]] = {256: 102, 512: 103}

    class Params(BEBLID.Params):
        bits: Literal[256, 512] = 256


EXTRACTORS: list[type[Extractor]] = [ORB, SIFT, AKAZE, BRISK, KAZE, BRIEF, FREAK, LATCH, DAISY, LUCID, BoostDesc,
                                     VGG, BEBLID, TEBLID]


@hookimpl
def bench_register_extractors() -> list[type[Extractor]]:
    return EXTRACTORS
