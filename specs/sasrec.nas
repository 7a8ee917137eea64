# SASRec: Self-Attentive Sequential Recommendation (Wang-Cheng Kang, Julian McAuley, ICDM 2018).
# Causal self-attention blocks over the item sequence; the last position's output is the user
# state, scored against every item by its embedding (shared input/output item table).
#
# Differs from the paper: monitored by validation NDCG@5 (AMEIR's protocol, docs/language.md
# §5.5), not NDCG@10, which nasc does not report.
model sasrec {
  input history: sequence(max_len=50)
  # Item embeddings plus a learned embedding of each position slot.
  seq = embed(history, dim=50, positions=true)
  # Two transformer blocks (one head each); dropout 0.5 as the paper uses on sparse Beauty.
  h = transformer(transformer(seq, heads=1, dropout=0.5), heads=1, dropout=0.5)
  user = last(h)
  head next_item(user) {
    items seq
  }
}

# The paper's training: Adam 1e-3, batch 128, max length 50 (Beauty), up to 200 epochs.
train {
  optimizer adam(lr=0.001, betas=[0.9, 0.98])
  batch 128
  epochs 200
  monitor ndcg5
  patience 2
}
