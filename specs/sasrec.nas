# SASRec: Self-Attentive Sequential Recommendation (Wang-Cheng Kang, Julian McAuley, ICDM 2018).
# Causal self-attention blocks over the item sequence; the last position's output is the user
# state, scored against every item by its embedding (shared input/output item table), with no
# learned matrix between the two (`projection none`: SASRec's code scores e_i^T h; nasc's results
# before 2026-12-06 had AMEIR's W, e_i^T W h, and fell 0.016-0.019 short of S3-Rec's numbers).
#
# Configured as the paper and S3-Rec's reproduction train it on Beauty: max length 50, 2 blocks,
# hidden 64, 1 head, dropout 0.5, Adam 1e-3 at a constant rate, batch 128, up to 200 epochs with
# early stopping on validation NDCG@10 (patience 10, as S3-Rec), sequence-to-sequence training
# (every position predicts the next item against one sampled negative) and evaluation against
# 99 random unseen items (docs/language.md §5.5).
#
# SASRec's input and output layers as its reference code writes them: item embeddings times
# sqrt(d), plus positions, dropout 0.5 (`embed`'s scale and dropout); layer norm after the last
# block (`layer_norm` as a node).
#
# The earlier protocol (AMEIR's, which every nasc result before issue 18 used, e.g. HR@5 0.2848
# at 5700da7): `git show 5700da7:specs/sasrec.nas`, i.e. `dim=50`, and in `train` the defaults
# `objective last_state` (the last 5 training positions, `--train-positions`), `eval_negatives
# 100`, `monitor ndcg5`, `patience 2` and `lr_decay 0.1`.
model sasrec {
  input history: sequence(max_len=50)
  # Item embeddings plus a learned embedding of each position slot; S3-Rec's N(0, 0.02) init.
  seq = embed(history, dim=64, init_std=0.02, positions=true, scale=true, dropout=0.5)
  h = layer_norm(transformer(transformer(seq, heads=1, dropout=0.5), heads=1, dropout=0.5))
  user = last(h)
  head next_item(user) {
    items seq
    projection none
  }
}

train {
  optimizer adam(lr=0.001, betas=[0.9, 0.98])
  batch 128
  epochs 200
  objective seq2seq
  eval_negatives 99
  monitor ndcg10
  patience 10
  lr_decay 1.0
}
