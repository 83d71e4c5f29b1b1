// L2-regularized squared-hinge (L2-loss) linear SVM, solved in the dual by
// coordinate descent with shrinking: Algorithm 3 of Hsieh, Chang, Lin,
// Keerthi and Sundararajan, "A Dual Coordinate Descent Method for Large-scale
// Linear SVM", ICML 2008, as liblinear's solver 1 (L2R_L2LOSS_SVC_DUAL) runs
// it inside scikit-learn's LinearSVC (its default loss, penalty and dual).
//
// Problem, for rows x_i with labels y_i in {-1, +1} and the bias feature
// b = intercept_scaling appended to every row (liblinear's bias, so the
// intercept is regularized like the weights, as in LinearSVC):
//
//   primal: min_w  1/2 |w|^2 + C sum_i max(0, 1 - y_i w.x_i)^2
//   dual:   min_a  1/2 a'(Q + D)a - sum_i a_i,  a_i >= 0,
//           Q_ij = y_i y_j x_i.x_j, D = I / (2C), w = sum_i a_i y_i x_i.
//
// Stops when the projected-gradient spread max PG - min PG over the full
// active set is <= tol (LinearSVC's tol), or after max_iter passes. The order
// of coordinates in each pass is a permutation from a std::mt19937 seeded
// with `seed`, so a fit is deterministic; different seeds converge to the same
// optimum within tol (scikit-learn's own permutation stream is different, so
// coefficients agree with scikit-learn to the tolerance, not bit for bit).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sagaflow::text {

// Rows of a sparse matrix (CSR): row i has the entries
// [row_begin[i], row_begin[i+1]) of col/value, columns strictly ascending.
struct SparseRows {
  std::vector<uint64_t> row_begin{0};
  std::vector<uint32_t> col;
  std::vector<double> value;
  uint32_t cols = 0;

  size_t rows() const noexcept { return row_begin.size() - 1; }
  // Appends a row; entries must have ascending, distinct columns < cols.
  void AddRow(std::span<const uint32_t> cols_of_row, std::span<const double> values_of_row);
};

struct SvmOptions {
  double c = 1.0;
  // The constant bias feature; <= 0 fits no intercept (fit_intercept=False).
  double intercept_scaling = 1.0;
  double tol = 1e-4;
  int max_iter = 1000;
  uint32_t seed = 0;
};

struct BinarySvm {
  std::vector<double> weights;  // one per column
  double bias_weight = 0;       // weight of the bias feature
  double intercept = 0;         // bias_weight * intercept_scaling (sklearn's intercept_)
  std::vector<double> alpha;    // the dual solution, one per row
  int iterations = 0;           // passes over the active set
  bool converged = false;       // false when max_iter passes were not enough
};

// Solves the problem above. y[i] is +1 or -1; y.size() == x.rows().
// Any number of rows (0 rows gives all-zero weights).
BinarySvm SolveL2LossSvm(const SparseRows& x, std::span<const int8_t> y, const SvmOptions& options);

// For tests and diagnostics: the dual objective 1/2 a'(Q + D)a - sum a, the
// primal objective, and the largest violation of the dual optimality (KKT)
// conditions |PG_i|, all evaluated from scratch (not from the solver's
// running state) for `svm` on (x, y).
struct SvmCheck {
  double dual_objective = 0;
  double primal_objective = 0;
  double max_kkt_violation = 0;
};
SvmCheck CheckL2LossSvm(const SparseRows& x, std::span<const int8_t> y, const SvmOptions& options,
                        const BinarySvm& svm);

}  // namespace sagaflow::text
