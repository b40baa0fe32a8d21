import pathlib

import pytest

from nmf._cpu import has_avx2, has_avx512f, has_fma, l2_cache_bytes, splits_512bit_vectors


def test_has_avx2_answers_a_bool_and_agrees_with_the_kernel_choice():
    import nmf._kernels as kernels

    assert isinstance(has_avx2(), bool)
    if not has_avx2():
        assert not kernels.cd_fast.__name__.endswith("_avx2")


def test_has_fma_answers_a_bool_and_agrees_with_the_kernel_choice():
    import nmf._kernels as kernels

    assert isinstance(has_fma(), bool)
    if not (has_avx2() and has_fma()):
        assert kernels.dense_fast is None


def test_splits_512bit_vectors_answers_a_bool_only_with_avx512():
    assert isinstance(splits_512bit_vectors(), bool)
    if splits_512bit_vectors():
        assert has_avx512f()


def test_splits_512bit_vectors_agrees_with_proc_cpuinfo():
    """Linux's own reading of the processor: AMD, family 25 (19h), with avx512f."""
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        pytest.skip("no /proc/cpuinfo (not Linux)")
    fields = {}
    for line in cpuinfo.read_text().splitlines():
        if not line.strip():
            break                   # the first processor is enough
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    if "vendor_id" not in fields or "cpu family" not in fields:
        pytest.skip("/proc/cpuinfo without x86 fields")
    expected = (fields["vendor_id"] == "AuthenticAMD" and fields["cpu family"] == "25"
                and "avx512f" in fields.get("flags", "").split())
    assert splits_512bit_vectors() == expected


def test_l2_cache_bytes_agrees_with_sysfs():
    """The C library's L2 size against Linux's own reading of the first CPU's caches
    (where both are known)."""
    size = l2_cache_bytes()
    assert isinstance(size, int) and size >= 0
    caches = pathlib.Path("/sys/devices/system/cpu/cpu0/cache")
    if size == 0 or not caches.is_dir():
        pytest.skip("L2 size not known here")
    for index in caches.glob("index*"):
        if ((index / "level").read_text().strip() == "2"
                and (index / "type").read_text().strip() in ("Unified", "Data")):
            text = (index / "size").read_text().strip()
            units = {"K": 1 << 10, "M": 1 << 20}
            expected = int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
            assert size == expected
            return
    pytest.skip("no L2 in sysfs")
