# SASRec as S3-Rec's repository trains it (Zhou et al., CIKM 2020; aHuiWang/CIKM2020-S3Rec,
# `run_finetune_sample.py` without a pre-trained checkpoint, whose numbers are the Beauty anchors
# of issue 18: HR@5 0.3741, NDCG@5 0.2848, HR@10 0.4696, NDCG@10 0.3156).
#
# Where it differs from specs/sasrec.nas (SASRec's own reference code): BERT's post-norm layer
# (`style=bert`: layer norm after each residual sum, a GELU feed-forward of width 4 x 64,
# N(0, 0.02) weights), 2 heads, the embedding sum layer-normalised before its dropout and not
# scaled by sqrt(d) (`norm=true`), no layer norm after the last block, batch 256, Adam's default
# betas. As in both codes the user state scores items by their embeddings with no matrix between
# (`projection none`). Dropout 0.5 on the embeddings, the attention probabilities and each sublayer output; item
# and position tables N(0, 0.02); sequence-to-sequence training with one sampled negative per
# position; up to 200 epochs at a constant rate.
#
# One difference is nasc's: S3-Rec stops early on validation MRR with patience 10, nasc on
# NDCG@10 (nasc reports no MRR), as specs/sasrec.nas does.
model sasrec_s3rec {
  input history: sequence(max_len=50)
  seq = embed(history, dim=64, init_std=0.02, positions=true, norm=true, dropout=0.5)
  h = transformer(transformer(seq, heads=2, dropout=0.5, style=bert), heads=2, dropout=0.5, style=bert)
  user = last(h)
  head next_item(user) {
    items seq
    projection none
  }
}

train {
  optimizer adam(lr=0.001, betas=[0.9, 0.999])
  batch 256
  epochs 200
  objective seq2seq
  eval_negatives 99
  monitor ndcg10
  patience 10
  lr_decay 1.0
}
