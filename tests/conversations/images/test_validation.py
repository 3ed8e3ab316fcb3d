"""What is accepted and how the kept copy looks, decided from the bytes alone."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conversations.images.validation import (
    ImageRefused,
    image_clean,
    image_format_sniff,
    upload_declared_size_check,
)
from tests.conversations.images.conftest import (
    SAMPLE_FORMATS,
    animation,
    jpeg_with_gps,
    picture,
    png_claiming,
    sample,
)

ROOT = Path(__file__).resolve().parents[3]


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(("name", "image_format"), SAMPLE_FORMATS.items())
def test_it_accepts_every_sample_format(name, image_format):
    clean = image_clean(sample(name))

    assert clean.format == image_format
    stored = reopen(clean.data)
    assert stored.format == image_format
    assert (clean.width, clean.height) == stored.size
    assert clean.frames == 1


@pytest.mark.parametrize(
    ("image_format", "mime_type", "extension"),
    [
        ("JPEG", "image/jpeg", "jpg"),
        ("PNG", "image/png", "png"),
        ("GIF", "image/gif", "gif"),
        ("WEBP", "image/webp", "webp"),
    ],
)
def test_it_accepts_pictures_made_by_pillow_in_every_format(image_format, mime_type, extension):
    clean = image_clean(picture(image_format, size=(64, 48)))

    assert (clean.format, clean.mime_type, clean.extension) == (image_format, mime_type, extension)
    assert (clean.width, clean.height) == (64, 48)
    assert reopen(clean.data).format == image_format


@pytest.mark.parametrize("image_format", ["GIF", "WEBP"])
def test_an_animation_stays_animated(image_format):
    clean = image_clean(animation(image_format, frames=6))

    stored = Image.open(io.BytesIO(clean.data))
    assert clean.frames == 6
    assert stored.n_frames == 6
    assert stored.is_animated


@pytest.mark.parametrize("image_format", ["GIF", "WEBP"])
def test_an_animation_over_the_frame_limit_is_refused(settings, image_format):
    settings.IMAGE_MAX_FRAMES = 5

    assert image_clean(animation(image_format, frames=5)).frames == 5
    with pytest.raises(ImageRefused) as refused:
        image_clean(animation(image_format, frames=6))

    assert refused.value.reason == "too_many_frames"
    assert refused.value.params == {"max_frames": 5}


def test_the_pixel_limit_counts_every_frame_of_an_animation(settings):
    settings.IMAGE_MAX_PIXELS = 40 * 30 * 4

    assert image_clean(animation("GIF", frames=4)).frames == 4
    with pytest.raises(ImageRefused) as refused:
        image_clean(animation("GIF", frames=5))

    assert refused.value.reason == "too_many_pixels"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"just some text, named like a photo",
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
        b"BM" + b"\0" * 60,  # a BMP header
    ],
    ids=["empty", "text", "pdf", "svg", "bmp"],
)
def test_anything_but_the_four_formats_is_an_unsupported_type(content):
    with pytest.raises(ImageRefused) as refused:
        image_clean(content)

    assert refused.value.reason == "unsupported_type"


def test_a_real_image_of_another_format_is_an_unsupported_type():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "TIFF")

    with pytest.raises(ImageRefused) as refused:
        image_clean(buffer.getvalue())

    assert refused.value.reason == "unsupported_type"


@pytest.mark.parametrize("name", SAMPLE_FORMATS)
def test_a_truncated_image_is_corrupt(name):
    data = sample(name)

    with pytest.raises(ImageRefused) as refused:
        image_clean(data[: len(data) // 2])

    assert refused.value.reason == "image_corrupt"


def test_a_signature_with_garbage_after_it_is_corrupt():
    with pytest.raises(ImageRefused) as refused:
        image_clean(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)

    assert refused.value.reason == "image_corrupt"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    ("width", "height"), [(100_000, 100_000), (10_000, 10_000), (7_000, 6_000)], ids=["huge", "big", "over"]
)
def test_a_pixel_bomb_is_refused_from_its_header(width, height):
    bomb = png_claiming(width, height)
    assert len(bomb) < 200

    with pytest.raises(ImageRefused) as refused:
        image_clean(bomb)

    assert refused.value.reason == "too_many_pixels"
    assert refused.value.params == {"max_megapixels": "25"}


def test_a_small_png_of_40_megapixels_is_refused_before_decoding():
    # 115 KB of PNG that decodes to 40 MP: 160 MB of pixels in the web process.
    buffer = io.BytesIO()
    Image.new("RGB", (6300, 6300), (10, 200, 30)).save(buffer, "PNG", optimize=True)
    assert len(buffer.getvalue()) < 200_000

    with pytest.raises(ImageRefused) as refused:
        image_clean(buffer.getvalue())

    assert refused.value.reason == "too_many_pixels"


# Decodes an image file in a fresh process and prints the peak memory that added, in bytes.
# (VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.)
_DECODE_MEMORY = """
import re, sys, django
django.setup()
from conversations.images.validation import image_clean
def status_kb(field):
    return int(re.search(field + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1))
data = open(sys.argv[1], "rb").read()
resident = status_kb("VmRSS")
image_clean(data)
print((status_kb("VmHWM") - resident) * 1024)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/self/status")
def test_decoding_an_image_holds_its_pixels_once(tmp_path):
    # 12 MP in a small file, so that its pixels are most of what decoding it costs.
    path = tmp_path / "plain.png"
    Image.new("RGB", (4000, 3000), (10, 200, 30)).save(path, "PNG")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatplatform.settings", "VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", _DECODE_MEMORY, str(path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    pixel_bytes = 4000 * 3000 * 4  # Pillow keeps RGB as 4 bytes per pixel
    assert int(result.stdout.split()[-1]) < 1.5 * pixel_bytes


def test_the_pixel_limit_is_a_setting(settings):
    settings.IMAGE_MAX_PIXELS = 64 * 48 - 1

    with pytest.raises(ImageRefused) as refused:
        image_clean(picture("PNG", size=(64, 48)))

    assert refused.value.reason == "too_many_pixels"


def test_a_file_one_byte_over_the_limit_is_too_large(settings):
    data = sample("red-wine-bottle.jpg")
    settings.IMAGE_MAX_UPLOAD_BYTES = len(data) - 1

    with pytest.raises(ImageRefused) as refused:
        image_clean(data)

    assert refused.value.reason == "file_too_large"
    settings.IMAGE_MAX_UPLOAD_BYTES = len(data)
    assert image_clean(data).format == "JPEG"


def test_a_declared_body_over_the_limit_and_the_multipart_allowance_is_refused(settings):
    settings.IMAGE_MAX_UPLOAD_BYTES = 1000

    upload_declared_size_check(str(1000 + 64 * 1024))
    upload_declared_size_check(None)
    with pytest.raises(ImageRefused) as refused:
        upload_declared_size_check(str(1000 + 64 * 1024 + 1))

    assert refused.value.reason == "file_too_large"
    assert refused.value.params == {"limit": "1000 B"}


def test_gps_and_camera_exif_are_gone_and_the_orientation_is_applied():
    original = reopen(jpeg_with_gps(size=(60, 40), orientation=6))
    assert original.getexif().get_ifd(0x8825)  # the fixture does carry GPS

    clean = image_clean(jpeg_with_gps(size=(60, 40), orientation=6))

    stored = reopen(clean.data)
    assert "exif" not in stored.info
    assert not stored.getexif()
    assert b"Exif" not in clean.data
    assert b"PhoneMaker" not in clean.data
    assert stored.size == (40, 60) == (clean.width, clean.height)


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_exif_is_removed_from_every_format_that_can_carry_it(image_format):
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (55.0, 40.0, 36.0)}
    exif[0x010F] = "PhoneMaker"
    data = picture(image_format, exif=exif.tobytes())
    assert reopen(data).getexif()

    clean = image_clean(data)

    assert not reopen(clean.data).getexif()
    assert b"PhoneMaker" not in clean.data


def test_icc_profiles_comments_and_trailing_bytes_are_gone():
    png = picture("PNG", icc_profile=b"not-really-an-icc-profile") + b"TRAILING-SECRET"
    gif = picture("GIF", comment=b"taken at home") + b"TRAILING-SECRET"

    clean_png, clean_gif = image_clean(png), image_clean(gif)

    assert "icc_profile" not in reopen(clean_png.data).info
    assert "comment" not in reopen(clean_gif.data).info
    assert b"TRAILING-SECRET" not in clean_png.data + clean_gif.data


def test_transparency_is_kept():
    buffer = io.BytesIO()
    Image.new("RGBA", (8, 8), (255, 0, 0, 0)).save(buffer, "PNG")

    stored = reopen(image_clean(buffer.getvalue()).data)

    assert stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "JPEG"),
        (b"\x89PNG\r\n\x1a\nrest", "PNG"),
        (b"GIF87a...", "GIF"),
        (b"GIF89a...", "GIF"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "WEBP"),
        (b"RIFF\0\0\0\0WAVEfmt ", None),
        (b"\xff\xd8", None),
    ],
)
def test_the_format_comes_from_the_signature(data, expected):
    assert image_format_sniff(data) == expected
