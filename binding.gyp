{
  "targets": [
    {
      "target_name": "dsllm",
      "sources": [
        "native/addon.cc",
        "native/parallel.cc",
        "native/memory.cc",
        "native/gemm.cc",
        "native/attention.cc",
        "native/norm.cc",
        "native/rope.cc",
        "native/act.cc",
        "native/embed.cc",
        "native/loss.cc",
        "native/optim.cc",
        "native/convert.cc",
        "native/elementwise.cc",
        "native/minhash.cc",
        "native/quant.cc",
        "native/gemm_prepacked.cc",
        "native/attention_decode.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-mtune=native", "-fexceptions", "-ffp-contract=fast", "-fno-math-errno", "-Wall", "-Wno-unused-function", "-Wno-maybe-uninitialized"],
      "ldflags": ["-pthread"]
    }
  ]
}
