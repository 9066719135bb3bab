/*
 * Debian's librdkafka starts its threads with C11 thrd_create() (glibc >= 2.34), which
 * ThreadSanitizer does not intercept: TSan then knows nothing of those threads and crashes
 * on their first malloc; likewise its C11 mutex and condition-variable calls reach glibc's internal pthread
 * functions, so TSan would not see the locks that order our callbacks and report false
 * races. These definitions, linked into the test executable, take precedence over glibc's
 * for librdkafka and route through the pthread functions, which TSan does intercept.
 * glibc defines mtx_t/cnd_t as the same storage as pthread_mutex_t/pthread_cond_t and
 * implements the C11 calls by casting, exactly as done here. Behaviour is what glibc's own implementation does, so the
 * plain (non-sanitized) test run is unaffected.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

#include "CThreadsForSanitizers.h"

int crmsync_c11_threads_shim_linked(void) { return 1; }

struct start_context {
        thrd_start_t func;
        void *arg;
};

static void *trampoline(void *opaque) {
        struct start_context context = *(struct start_context *)opaque;
        free(opaque);
        return (void *)(intptr_t)context.func(context.arg);
}

static int to_thrd_result(int err) {
        switch (err) {
        case 0: return thrd_success;
        case ENOMEM: return thrd_nomem;
        case EBUSY: return thrd_busy;
        case ETIMEDOUT: return thrd_timedout;
        default: return thrd_error;
        }
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg) {
        struct start_context *context = malloc(sizeof(*context));
        if (!context)
                return thrd_nomem;
        context->func = func;
        context->arg = arg;
        int err = pthread_create(thr, NULL, trampoline, context);
        if (err)
                free(context);
        return to_thrd_result(err);
}

int thrd_join(thrd_t thr, int *res) {
        void *value = NULL;
        int err = pthread_join(thr, &value);
        if (!err && res)
                *res = (int)(intptr_t)value;
        return to_thrd_result(err);
}

int thrd_detach(thrd_t thr) {
        return to_thrd_result(pthread_detach(thr));
}

_Noreturn void thrd_exit(int res) {
        pthread_exit((void *)(intptr_t)res);
}

int mtx_init(mtx_t *mutex, int type) {
        pthread_mutexattr_t attributes;
        pthread_mutexattr_init(&attributes);
        if (type & mtx_recursive)
                pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
        int err = pthread_mutex_init((pthread_mutex_t *)mutex, &attributes);
        pthread_mutexattr_destroy(&attributes);
        return to_thrd_result(err);
}

int mtx_lock(mtx_t *mutex) {
        return to_thrd_result(pthread_mutex_lock((pthread_mutex_t *)mutex));
}

int mtx_trylock(mtx_t *mutex) {
        return to_thrd_result(pthread_mutex_trylock((pthread_mutex_t *)mutex));
}

int mtx_timedlock(mtx_t *restrict mutex, const struct timespec *restrict deadline) {
        return to_thrd_result(pthread_mutex_timedlock((pthread_mutex_t *)mutex, deadline));
}

int mtx_unlock(mtx_t *mutex) {
        return to_thrd_result(pthread_mutex_unlock((pthread_mutex_t *)mutex));
}

void mtx_destroy(mtx_t *mutex) {
        pthread_mutex_destroy((pthread_mutex_t *)mutex);
}

int cnd_init(cnd_t *cond) {
        return to_thrd_result(pthread_cond_init((pthread_cond_t *)cond, NULL));
}

int cnd_signal(cnd_t *cond) {
        return to_thrd_result(pthread_cond_signal((pthread_cond_t *)cond));
}

int cnd_broadcast(cnd_t *cond) {
        return to_thrd_result(pthread_cond_broadcast((pthread_cond_t *)cond));
}

int cnd_wait(cnd_t *cond, mtx_t *mutex) {
        return to_thrd_result(pthread_cond_wait((pthread_cond_t *)cond, (pthread_mutex_t *)mutex));
}

int cnd_timedwait(cnd_t *restrict cond, mtx_t *restrict mutex, const struct timespec *restrict deadline) {
        return to_thrd_result(pthread_cond_timedwait((pthread_cond_t *)cond, (pthread_mutex_t *)mutex, deadline));
}

void cnd_destroy(cnd_t *cond) {
        pthread_cond_destroy((pthread_cond_t *)cond);
}

void call_once(once_flag *flag, void (*func)(void)) {
        pthread_once((pthread_once_t *)flag, func);
}
