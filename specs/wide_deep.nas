# Wide&Deep (Heng-Tze Cheng, Levent Koc, Jeremiah Harmsen et al., DLRS 2016). A wide linear model
# over the raw features (memorisation) plus a deep MLP over the embeddings (generalisation),
# trained jointly: y = wide + deep.
model wide_deep {
  input fields: categorical
  emb = embed(fields, dim=10)
  wide = lr(fields)
  mlp deep(flatten(emb)) {
    layers 3
    width 400
    act relu
    dropout 0.2
    batch_norm
  }
  head ctr(wide, deep)
}

# BARS-style training on Frappe (settings of BARS' DeepFM config).
train {
  optimizer adam(lr=0.001)
  batch 4096
  epochs 100
  monitor auc
  patience 2
  lr_decay 0.1
  embedding_l2 0.05
}
