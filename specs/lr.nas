# LR: logistic regression (the classic CTR baseline; see e.g. McMahan et al., "Ad Click
# Prediction: a View from the Trenches", KDD 2013). One learned weight per feature value plus a
# bias: y = sigmoid(w0 + sum_i w_{x_i}); no embeddings and no interactions.
model lr {
  input fields: categorical
  linear = lr(fields)
  head ctr(linear)
}

# BARS-style training on Frappe (Adam 1e-3, batch 4096, lr x0.1 on a plateau, patience 2, AUC).
train {
  optimizer adam(lr=0.001)
  batch 4096
  epochs 100
  monitor auc
  patience 2
  lr_decay 0.1
}
