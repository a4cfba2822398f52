// The one copy of each small helper (base/text.hpp) and the one cuDNN file-name reading
// (cudnn/file_names.hpp) that the needs and the candidates share.
#include <doctest/doctest.h>

#include "base/text.hpp"
#include "cudnn/file_names.hpp"

using namespace alltalk;

TEST_CASE("trim, lower, split, join, leading_int") {
    CHECK(text::trim(" \t a b \r\n") == "a b");
    CHECK(text::trim("   ").empty());
    CHECK(text::lower("LibCUDNN.SO.9") == "libcudnn.so.9");
    CHECK(text::split("a::b", ':') == std::vector<std::string>{"a", "", "b"});
    CHECK(text::split("", ':') == std::vector<std::string>{""});
    CHECK(text::split_nonempty(":a::b:", ':') == std::vector<std::string>{"a", "b"});
    CHECK(text::join({"a", "b", "c"}, "; ") == "a; b; c");
    CHECK(text::join({}, ", ").empty());
    CHECK(text::leading_int("12.4") == 12);
    CHECK(text::leading_int("x1") == -1);
}

TEST_CASE("quote_arg: what the user's shell takes literally") {
    // POSIX: Python's shlex.quote, character for character.
    CHECK(text::quote_arg("/env/bin/python", Platform::Posix) == "/env/bin/python");
    CHECK(text::quote_arg("nvidia-cudnn-cu12==8.*", Platform::Posix) == "'nvidia-cudnn-cu12==8.*'");
    CHECK(text::quote_arg("pydantic<2", Platform::Posix) == "'pydantic<2'");
    CHECK(text::quote_arg("/my env/python", Platform::Posix) == "'/my env/python'");
    CHECK(text::quote_arg("it's", Platform::Posix) == "'it'\"'\"'s'");
    CHECK(text::quote_arg("", Platform::Posix) == "''");
    CHECK(text::quote_arg("a@b%c+d=e:f,g", Platform::Posix) == "a@b%c+d=e:f,g");
    // cmd.exe: always double quotes, so that <, >, & and spaces are literal.
    CHECK(text::quote_arg("C:\\AllTalk\\env\\python.exe", Platform::Windows) ==
          "\"C:\\AllTalk\\env\\python.exe\"");
    CHECK(text::quote_arg("ctranslate2>=4.5.0", Platform::Windows) == "\"ctranslate2>=4.5.0\"");
}

TEST_CASE("one cuDNN file-name classifier, auditwheel names included") {
    auto l = [](const char* n) { return classify_cudnn_file(n, Platform::Posix); };
    auto w = [](const char* n) { return classify_cudnn_file(n, Platform::Windows); };
    CHECK(l("libcudnn.so.9").major == 9);
    CHECK(l("libcudnn.so.9").main);
    CHECK(l("libcudnn.so.9.1.0").full_version == "9.1.0");
    CHECK(l("libcudnn_ops.so.9").ops);
    CHECK(l("libcudnn_ops_infer.so.8").ops);
    CHECK_FALSE(l("libcudnn_ops_infer.so.8").main);
    // auditwheel's copy: the major and that it is the main library, and that it is bundled.
    const CudnnFileName b = l("libcudnn-1a2b3c4d.so.8.9.7");
    CHECK(b.major == 8);
    CHECK(b.main);
    CHECK(b.bundled);
    CHECK(b.full_version == "8.9.7");
    CHECK(l("libcudnn.so").major == -1);
    CHECK(l("libcublas.so.12").major == -1);
    CHECK(w("cudnn64_9.dll").main);
    CHECK(w("cudnn_ops64_9.dll").ops);
    CHECK(w("cudnn_ops_infer64_8.dll").major == 8);
    CHECK(w("cudnn_engines_precompiled64_9.dll").major == 9);
    CHECK_FALSE(w("cudnn_engines_precompiled64_9.dll").main);
    CHECK(w("cudnn64_9.so").major == -1);
    CHECK(l("cudnn64_9.dll").major == -1);
}
