"""Tiny random Hugging Face models for the baseline tests, built from configs (no download).

Each ``make_*`` writes a folder that ``from_pretrained`` loads exactly as it would a hub
checkpoint: the same code path as real runs, with a few thousand random weights.
``make_tiny_qwen_vl`` also trains its tokenizer on the fly and fits the model, for a few dozen
steps, to answer every prompt with one fixed Chain-of-Region answer, so an end-to-end test can
check the predicted coordinates, not just that generation ran.

Run ``python tests/baselines_tests/tiny_models.py OUT_DIR`` to write them all for inspection.
"""

from __future__ import annotations

import sys
from pathlib import Path

# One definition of Qwen's special tokens and reduced chat format, shared with the pipeline's tiny VLM.
from baselines.reference.reasoning.tiny import CHAT_TEMPLATE as QWEN_CHAT_TEMPLATE  # noqa: E402
from baselines.reference.reasoning.tiny import SPECIAL_TOKENS as QWEN_SPECIAL_TOKENS  # noqa: E402

TINY_ANSWER = "Answer:\nContinent: Europe\nCountry: France\nRegion: Ile-de-France\nCity: Paris\nCoordinates: 48.8566, 2.3522"


def make_tiny_clip(folder: Path, *, seed: int = 0) -> Path:
    import torch
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel

    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config={"vocab_size": 99, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "max_position_embeddings": 16,
                     "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 2},
        vision_config={"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                       "image_size": 32, "patch_size": 8},
        projection_dim=12,
    )
    CLIPModel(config).save_pretrained(folder)
    CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def make_tiny_dinov2(folder: Path, *, seed: int = 0) -> Path:
    import torch
    from transformers import BitImageProcessorPil, Dinov2Config, Dinov2Model

    torch.manual_seed(seed)
    config = Dinov2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                          image_size=32, patch_size=8)
    Dinov2Model(config).save_pretrained(folder)
    BitImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}, do_center_crop=True).save_pretrained(folder)
    return folder


def make_tiny_clap(folder: Path, *, seed: int = 0) -> Path:
    import torch
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel

    torch.manual_seed(seed)
    config = ClapConfig(
        text_config={"vocab_size": 99, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "max_position_embeddings": 40},
        audio_config={"spec_size": 64, "patch_size": 4, "patch_stride": [4, 4], "num_mel_bins": 16,
                      "hidden_size": 16, "patch_embeds_hidden_size": 8, "depths": [1, 1],
                      "num_attention_heads": [2, 2], "window_size": 4, "enable_fusion": False},
        projection_dim=12,
    )
    ClapModel(config).save_pretrained(folder)
    ClapFeatureExtractor(feature_size=16, sampling_rate=48_000, max_length_s=2).save_pretrained(folder)
    return folder


def make_tiny_whisper(folder: Path, *, seed: int = 0) -> Path:
    import torch
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    torch.manual_seed(seed)
    # Special-token ids must sit inside the tiny vocabulary (TRAPS.md: the default pad id crashes).
    config = WhisperConfig(vocab_size=64, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                           decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, num_mel_bins=80,
                           max_source_positions=1500, max_target_positions=32, pad_token_id=1, bos_token_id=2,
                           eos_token_id=3, decoder_start_token_id=2, suppress_tokens=[], begin_suppress_tokens=[])
    WhisperModel(config).save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(folder)
    return folder


def train_qwen_tokenizer(corpus: list[str]):
    """A byte-level BPE tokenizer with Qwen's special tokens, trained on ``corpus`` in a blink."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=QWEN_SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = QWEN_CHAT_TEMPLATE
    return fast


def make_tiny_qwen_vl(folder: Path, *, answer: str = TINY_ANSWER, prompt: str = "", seed: int = 0, steps: int = 60) -> Path:
    """A tiny Qwen2.5-VL that answers every prompt with ``answer`` (fitted by teacher forcing)."""
    import numpy as np
    import torch
    from PIL import Image
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2VLImageProcessorPil

    torch.manual_seed(seed)
    tokenizer = train_qwen_tokenizer([answer, prompt, "user assistant"] * 4)
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in QWEN_SPECIAL_TOKENS}
    config = Qwen2_5_VLConfig(
        text_config={"vocab_size": len(tokenizer), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 4096,
                     # mrope sections must sum to head_dim / 2 = 64 / 4 / 2 (TRAPS.md)
                     "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]},
                     "eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"], "bos_token_id": ids["<|endoftext|>"]},
        vision_config={"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
                       "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": 56,
                       "fullatt_block_indexes": [1]},
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
    )
    model = Qwen2_5_VLForConditionalGeneration(config)
    image_processor = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=112 * 112)
    folder.mkdir(parents=True, exist_ok=True)
    image_processor.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    if steps:
        from baselines.generation import ChatPrompter

        prompter = ChatPrompter.load(str(folder), None, None)
        rng = np.random.default_rng(seed)
        images = [Image.fromarray(rng.integers(0, 255, (108, 192, 3), dtype=np.uint8)) for _ in range(2)]
        inputs = prompter(images, prompt or "Where?")
        target = tokenizer(answer + "<|im_end|>", return_tensors="pt")["input_ids"]
        input_ids = torch.cat([inputs["input_ids"], target], dim=1)
        labels = torch.cat([torch.full_like(inputs["input_ids"], -100), target], dim=1)
        optimiser = torch.optim.Adam(model.parameters(), lr=5e-3)
        model.train()
        for _ in range(steps):
            loss = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), labels=labels,
                         pixel_values=inputs["pixel_values"], image_grid_thw=inputs["image_grid_thw"]).loss
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        model.eval().save_pretrained(folder)
    return folder


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "tiny-models")
    for maker in (make_tiny_clip, make_tiny_dinov2, make_tiny_clap, make_tiny_whisper, make_tiny_qwen_vl):
        print(maker(out / maker.__name__.removeprefix("make_tiny_")))
