from nmf._cpu import has_avx2, has_avx512f, has_fma, splits_512bit_vectors


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
