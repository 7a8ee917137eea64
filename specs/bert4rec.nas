# BERT4Rec: Sequential Recommendation with Bidirectional Encoder Representations from Transformer
# (Fei Sun et al., CIKM 2019). Bidirectional self-attention blocks over the item sequence, trained
# by the cloze task: a share of each training sequence is replaced by a mask item and predicted
# over the whole catalogue from both sides; to recommend, the mask is appended to the history and
# its output is the user state, scored against every item by its embedding (shared table).
#
# Configured as the paper trains it on Beauty (§4.3): max length 50, 2 blocks, hidden 64, 2 heads,
# dropout 0.1, mask proportion 0.6, Adam 1e-4 (betas 0.9, 0.999), batch 256, embeddings and
# weights drawn from N(0, 0.02); early stopping on validation NDCG@10 and evaluation against 99
# random unseen items, as nasc reports SASRec (specs/sasrec.nas), so the two compare on the same
# candidates. The paper's own protocol is its Beauty log with 100 negatives sampled by
# popularity: `--data ../shared/data/beauty_bert4rec` with `eval_negatives 100` and
# `eval_sampling popularity` (ANCHORS.md section 3).
#
# Not as the paper: nasc's `transformer` is SASRec's block (layer norm before attention and
# before the feed-forward, ReLU) where BERT4Rec normalises after each sub-layer and uses GELU;
# the paper's output layer adds a GELU projection and an item bias before the shared table; the
# paper's linear learning-rate decay and L2 weight decay of 0.01 are not set here.
model bert4rec {
  input history: sequence(max_len=50)
  seq = embed(history, dim=64, init_std=0.02, positions=true, dropout=0.1)
  h = layer_norm(transformer(transformer(seq, heads=2, dropout=0.1, causal=false), heads=2, dropout=0.1, causal=false))
  user = last(h)
  head next_item(user) {
    items seq
  }
}

train {
  optimizer adam(lr=0.0001, betas=[0.9, 0.999])
  batch 256
  epochs 200
  objective cloze
  mask_prob 0.6
  eval_negatives 99
  monitor ndcg10
  patience 10
  lr_decay 1.0
}
