//! `.await` on a future: [`IntoFuture`] for `Lazy<T>`, `&Lazy<T>` and `SharedLazy<T>`.
//!
//! Awaiting never blocks the async executor: the first poll registers the task's waker
//! as a callback on the future's state (checking and registering under one lock, so a
//! value that arrives during the poll is never missed), and the thread that decides
//! the outcome wakes it once. A future with a deadline is woken at the deadline by the
//! crate's timer thread. No async runtime is a dependency.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::lazy::Lazy;
use crate::lazy::shared::SharedLazy;

/// The waker registration of one pending `.await`.
struct Registration {
    id: Option<u64>,
    waker: Option<Waker>,
}

impl Registration {
    const fn new() -> Self {
        Registration {
            id: None,
            waker: None,
        }
    }

    /// `true` if the outcome is decided; otherwise registers `cx`'s waker (once per
    /// distinct waker) and returns `false`.
    fn poll<T: Send + 'static>(&mut self, lazy: &Lazy<T>, cx: &mut Context<'_>) -> bool {
        if Lazy::is_done(lazy) {
            return true;
        }
        if self.id.is_some() && self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return false; // the registered waker still stands
        }
        if let Some(id) = self.id.take() {
            Lazy::unwatch(lazy, id);
        }
        let waker = cx.waker().clone();
        let wake = waker.clone();
        match Lazy::watch(lazy, Box::new(move |_| wake.wake())) {
            Ok(id) => {
                self.id = Some(id);
                self.waker = Some(waker);
                false
            }
            Err(_) => true, // decided while we registered: ready now, no wake needed
        }
    }

    fn cancel<T: Send + 'static>(&mut self, lazy: &Lazy<T>) {
        if let Some(id) = self.id.take() {
            Lazy::unwatch(lazy, id);
        }
    }
}

/// The [`Future`] of a `Lazy<T>` awaited by value: its output is the value.
///
/// # Panics
///
/// Polling panics, as any access would, if the task panicked.
///
/// ```
/// use transparent_future::spawn_lazy;
///
/// let x = spawn_lazy(|| 40);
/// let y = pollster_like_block_on(async move { x.await + 2 });
/// assert_eq!(y, 42);
/// # fn pollster_like_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     use std::task::{Context, Poll, Wake, Waker};
/// #     use std::sync::Arc;
/// #     struct T(std::thread::Thread);
/// #     impl Wake for T { fn wake(self: Arc<Self>) { self.0.unpark() } }
/// #     let waker = Waker::from(Arc::new(T(std::thread::current())));
/// #     let mut cx = Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } std::thread::park() }
/// # }
/// ```
pub struct LazyFuture<T: Send + 'static> {
    lazy: Option<Lazy<T>>,
    registration: Registration,
}

impl<T: Send + 'static> Future for LazyFuture<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        let Some(lazy) = this.lazy.as_ref() else {
            panic!("LazyFuture polled after it returned its value");
        };
        if this.registration.poll(lazy, cx) {
            this.registration.cancel(lazy);
            match this.lazy.take() {
                Some(lazy) => Poll::Ready(Lazy::into_inner(lazy)),
                None => unreachable!(),
            }
        } else {
            Poll::Pending
        }
    }
}

impl<T: Send + 'static> Drop for LazyFuture<T> {
    fn drop(&mut self) {
        if let Some(lazy) = &self.lazy {
            self.registration.cancel(lazy);
        }
    }
}

impl<T: Send + 'static> Unpin for LazyFuture<T> {}

impl<T: Send + 'static> std::fmt::Debug for LazyFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyFuture").finish_non_exhaustive()
    }
}

impl<T: Send + 'static> IntoFuture for Lazy<T> {
    type Output = T;
    type IntoFuture = LazyFuture<T>;

    /// Awaits the value without blocking the async executor.
    fn into_future(self) -> LazyFuture<T> {
        LazyFuture {
            lazy: Some(self),
            registration: Registration::new(),
        }
    }
}

/// The [`Future`] of a `&Lazy<T>` (or a `SharedLazy<T>`'s value): its output is a
/// reference to the value.
///
/// ```
/// use transparent_future::{spawn_lazy, Lazy};
///
/// let x = spawn_lazy(|| String::from("shared"));
/// let len = block_on(async { (&x).await.len() });
/// assert_eq!(len, 6);
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     use std::task::{Context, Poll, Wake, Waker};
/// #     use std::sync::Arc;
/// #     struct T(std::thread::Thread);
/// #     impl Wake for T { fn wake(self: Arc<Self>) { self.0.unpark() } }
/// #     let waker = Waker::from(Arc::new(T(std::thread::current())));
/// #     let mut cx = Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } std::thread::park() }
/// # }
/// ```
pub struct LazyRefFuture<'a, T: Send + 'static> {
    lazy: &'a Lazy<T>,
    registration: Registration,
}

impl<'a, T: Send + 'static> Future for LazyRefFuture<'a, T> {
    type Output = &'a T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'a T> {
        let this = &mut *self;
        let lazy = this.lazy;
        if this.registration.poll(lazy, cx) {
            this.registration.cancel(lazy);
            Poll::Ready(Lazy::wait(lazy))
        } else {
            Poll::Pending
        }
    }
}

impl<T: Send + 'static> Drop for LazyRefFuture<'_, T> {
    fn drop(&mut self) {
        self.registration.cancel(self.lazy);
    }
}

impl<T: Send + 'static> Unpin for LazyRefFuture<'_, T> {}

impl<T: Send + 'static> std::fmt::Debug for LazyRefFuture<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyRefFuture").finish_non_exhaustive()
    }
}

impl<'a, T: Send + 'static> IntoFuture for &'a Lazy<T> {
    type Output = &'a T;
    type IntoFuture = LazyRefFuture<'a, T>;

    /// Awaits a reference to the value without blocking the async executor.
    fn into_future(self) -> LazyRefFuture<'a, T> {
        LazyRefFuture {
            lazy: self,
            registration: Registration::new(),
        }
    }
}

impl<'a, T: Send + 'static> IntoFuture for &'a SharedLazy<T> {
    type Output = &'a T;
    type IntoFuture = LazyRefFuture<'a, T>;

    /// Awaits a reference to the shared value without blocking the async executor.
    fn into_future(self) -> LazyRefFuture<'a, T> {
        SharedLazy::as_lazy(self).into_future()
    }
}

/// The [`Future`] of a `SharedLazy<T>` awaited by value: its output is the value,
/// moved out if this was the last handle (no clone, as futures-rs `Shared` does) and
/// cloned otherwise, so every clone of the handle can await it.
///
/// ```
/// use transparent_future::{spawn_lazy, Lazy};
///
/// let a = Lazy::share(spawn_lazy(|| vec![1, 2, 3]));
/// let b = a.clone();
/// let (x, y) = pollster_like_block_on(async move { (a.await, b.await) });
/// assert_eq!((x, y), (vec![1, 2, 3], vec![1, 2, 3])); // one clone, then the last moved out
/// # fn pollster_like_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     use std::task::{Context, Poll, Wake, Waker};
/// #     use std::sync::Arc;
/// #     struct T(std::thread::Thread);
/// #     impl Wake for T { fn wake(self: Arc<Self>) { self.0.unpark() } }
/// #     let waker = Waker::from(Arc::new(T(std::thread::current())));
/// #     let mut cx = Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v } std::thread::park() }
/// # }
/// ```
pub struct SharedLazyFuture<T: Send + 'static> {
    /// `None` once the value was returned.
    shared: Option<SharedLazy<T>>,
    registration: Registration,
}

impl<T: Clone + Send + 'static> Future for SharedLazyFuture<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        let Some(shared) = this.shared.as_ref() else {
            panic!("SharedLazyFuture polled after it returned its value");
        };
        let lazy = SharedLazy::as_lazy(shared);
        if this.registration.poll(lazy, cx) {
            this.registration.cancel(lazy);
            match this.shared.take() {
                Some(shared) => Poll::Ready(SharedLazy::unwrap_or_clone(shared)),
                None => unreachable!(),
            }
        } else {
            Poll::Pending
        }
    }
}

impl<T: Send + 'static> Drop for SharedLazyFuture<T> {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            self.registration.cancel(SharedLazy::as_lazy(shared));
        }
    }
}

impl<T: Send + 'static> Unpin for SharedLazyFuture<T> {}

impl<T: Send + 'static> std::fmt::Debug for SharedLazyFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLazyFuture").finish_non_exhaustive()
    }
}

impl<T: Clone + Send + 'static> IntoFuture for SharedLazy<T> {
    type Output = T;
    type IntoFuture = SharedLazyFuture<T>;

    /// Awaits the shared value without blocking the async executor: moved out through
    /// the last handle, cloned through the others.
    fn into_future(self) -> SharedLazyFuture<T> {
        SharedLazyFuture {
            shared: Some(self),
            registration: Registration::new(),
        }
    }
}
