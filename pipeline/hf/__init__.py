"""Hugging Face checkpoints in and out: a pure-torch mapper for the Llama family (Llama 2/3/3.1,
TinyLlama, Mistral, Qwen2, Mixtral) between ``safetensors`` + ``config.json`` and megatron-core
distributed checkpoints. Needs only safetensors (transformers is the tests' reference)."""
